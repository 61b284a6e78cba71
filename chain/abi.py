"""Decoding logs and revert data with every ABI the chain has deployed.

:class:`AbiRegistry` holds the ABIs of compiled contracts, by contract name, and which deployed
addresses each one is bound to. Selector and topic maps are built when an ABI is registered, so
decoding a log or a revert is a dictionary lookup plus one ``eth_abi.decode``.

Decoding never raises on bad data: logs from unknown contracts, logs whose data does not fit
the ABI, and garbage revert data all come back as ``None`` or as an "unknown error" string,
because the chain decodes every log of every block and must not fail a block over one of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_utils import keccak

from agentbed.chain.addresses import checksum
from agentbed.chain.types import DecodedEvent

__all__ = ["PANIC_CODES", "AbiRegistry", "event_topic", "selector"]

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
"""``keccak("Error(string)")[:4]``: what ``require(cond, "msg")`` and ``revert("msg")`` emit."""
PANIC_SELECTOR = bytes.fromhex("4e487b71")
"""``keccak("Panic(uint256)")[:4]``: what failed ``assert``s and checked arithmetic emit."""

PANIC_CODES: Mapping[int, str] = {
    0x00: "generic compiler-inserted panic",
    0x01: "assertion failed",
    0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "incorrectly encoded storage byte array",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to zero-initialized internal function",
}
"""Solidity's panic codes (docs: "Panic via assert and Error via require")."""

# What eth_abi raises on data that does not fit the types: its own DecodingError family, plus
# ValueError (e.g. UnicodeDecodeError on a malformed string) and OverflowError on absurd
# offsets and lengths.
_DECODE_ERRORS = (DecodingError, ValueError, OverflowError, TypeError)


def selector(signature: str) -> bytes:
    """The 4-byte selector of a function or error signature, e.g. ``"transfer(address,uint256)"``.

    Whitespace in the signature is ignored; types must be canonical (``uint256``, not ``uint``).
    """
    return keccak(text="".join(signature.split()))[:4]


def event_topic(signature: str) -> bytes:
    """The 32-byte topic0 of an event signature, e.g. ``"Transfer(address,address,uint256)"``."""
    return keccak(text="".join(signature.split()))


# ---------------------------------------------------------------------------------------------
# ABI types -> eth_abi type strings and value converters
# ---------------------------------------------------------------------------------------------

_Converter = Callable[[Any], Any]


def _type_string(param: Mapping[str, Any]) -> str:
    """Canonical type of an ABI parameter; ``tuple`` types expand their ``components``."""
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_type_string(c) for c in param.get("components", ()))
        return f"({inner}){typ[len('tuple') :]}"
    return typ


def _checksum(value: Any) -> str:
    return checksum(value)


def _converter(param: Mapping[str, Any]) -> _Converter | None:
    """How to turn eth_abi's decoded value into the project's: addresses checksummed, named
    structs as dicts, arrays as tuples. ``None`` when the value needs no change (the common
    case, which keeps decoding of plain ints and bytes free of per-value work)."""
    typ = str(param["type"])
    if typ.endswith("]"):
        element = dict(param)
        element["type"] = typ[: typ.rindex("[")]
        convert = _converter(element)
        if convert is None:
            return None
        return lambda value: tuple(convert(v) for v in value)
    if typ == "address":
        return _checksum
    if typ == "tuple":
        components = list(param.get("components", ()))
        converters = [_converter(c) for c in components]
        names = [str(c.get("name") or "") for c in components]
        as_dict = all(names) and len(set(names)) == len(names)

        def convert_tuple(value: Any) -> Any:
            items = [v if c is None else c(v) for c, v in zip(converters, value, strict=True)]
            return dict(zip(names, items, strict=True)) if as_dict else tuple(items)

        return convert_tuple
    return None


def _arg_names(params: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    # Unnamed parameters are legal in Solidity; give them stable positional names.
    return tuple(str(p.get("name") or f"arg{i}") for i, p in enumerate(params))


def _is_dynamic(typ: str) -> bool:
    """Whether a type is hashed rather than stored when it is an indexed event parameter."""
    return typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("(")


def _parse_types(contract: str, item: str, types: Sequence[str]) -> tuple[ABIType, ...]:
    """Parse (and so validate) types at register time, so bad ABIs fail there, not per log."""
    parsed = []
    for typ in types:
        try:
            abi_type = parse(typ)
            abi_type.validate()
        except Exception as err:  # eth_abi's ParseError / ABITypeError
            raise ValueError(f"{contract}: {item} has an invalid ABI type {typ!r}") from err
        parsed.append(abi_type)
    return tuple(parsed)


# ---------------------------------------------------------------------------------------------
# Compiled ABI items
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _EventSpec:
    contract: str
    name: str
    signature: str
    names: tuple[str, ...]
    """All argument names, in ABI order."""
    indexed: tuple[bool, ...]
    topic_types: tuple[str, ...]
    """Types of the indexed arguments, in order."""
    data_types: tuple[str, ...]
    """Types of the non-indexed arguments, in order."""
    converters: tuple[_Converter | None, ...]
    """Per argument, in ABI order."""

    def decode(self, topics: Sequence[bytes], data: bytes) -> DecodedEvent:
        data_values = iter(decode(self.data_types, data))
        topic_values = iter(topics[1:])
        topic_types = iter(self.topic_types)
        args: dict[str, Any] = {}
        for name, is_indexed, convert in zip(
            self.names, self.indexed, self.converters, strict=True
        ):
            if is_indexed:
                typ = next(topic_types)
                topic = bytes(next(topic_values))
                if len(topic) != 32:
                    raise DecodingError(f"topic of {len(topic)} bytes")
                if _is_dynamic(typ):
                    # The log holds only keccak of the encoded value; the value is gone.
                    args[name] = topic
                    continue
                value = decode([typ], topic)[0]
            else:
                value = next(data_values)
            args[name] = value if convert is None else convert(value)
        return DecodedEvent(name=self.name, args=args, contract=self.contract)


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    contract: str
    name: str
    types: tuple[str, ...]
    parsed: tuple[ABIType, ...]

    def render(self, payload: bytes) -> str:
        values = decode(self.types, payload)
        rendered = ", ".join(_render(t, v) for t, v in zip(self.parsed, values, strict=True))
        return f"{self.name}({rendered})"


def _render(typ: ABIType, value: Any) -> str:
    """Solidity-like text for a decoded value, driven by its ABI type (not by guessing from the
    value): addresses checksummed, ints decimal, bytes hex, bools lower-case, strings quoted
    (so that a string containing ", " cannot pass for two arguments)."""
    if typ.is_array:
        return "[" + ", ".join(_render(typ.item_type, v) for v in value) + "]"
    if isinstance(typ, TupleType):
        parts = (_render(t, v) for t, v in zip(typ.components, value, strict=True))
        return "(" + ", ".join(parts) + ")"
    base = typ.base if isinstance(typ, BasicType) else ""
    if base == "address":
        return checksum(value)
    if base == "bool":
        return "true" if value else "false"
    if base == "string":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


@dataclass(frozen=True, slots=True)
class _CompiledAbi:
    events: Mapping[bytes, tuple[_EventSpec, ...]]
    errors: Mapping[bytes, tuple[_ErrorSpec, ...]]


def _compile(contract: str, abi: Sequence[Mapping[str, Any]]) -> _CompiledAbi:
    events: dict[bytes, list[_EventSpec]] = {}
    errors: dict[bytes, list[_ErrorSpec]] = {}
    for item in abi:
        kind = item.get("type")
        if kind not in ("event", "error"):
            continue
        name = str(item["name"])
        inputs: list[Mapping[str, Any]] = list(item.get("inputs", ()))
        types = tuple(_type_string(p) for p in inputs)
        parsed = _parse_types(contract, name, types)
        signature = f"{name}({','.join(types)})"
        if kind == "error":
            spec = _ErrorSpec(contract, name, types, parsed)
            errors.setdefault(selector(signature), []).append(spec)
            continue
        if item.get("anonymous"):
            # No topic0 to match on: an anonymous event cannot be recognised reliably.
            continue
        indexed = tuple(bool(p.get("indexed")) for p in inputs)
        event = _EventSpec(
            contract=contract,
            name=name,
            signature=signature,
            names=_arg_names(inputs),
            indexed=indexed,
            topic_types=tuple(t for t, i in zip(types, indexed, strict=True) if i),
            data_types=tuple(t for t, i in zip(types, indexed, strict=True) if not i),
            converters=tuple(_converter(p) for p in inputs),
        )
        events.setdefault(event_topic(signature), []).append(event)
    return _CompiledAbi(
        events={k: tuple(v) for k, v in events.items()},
        errors={k: tuple(v) for k, v in errors.items()},
    )


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


class AbiRegistry:
    """Every ABI the chain knows, by contract name, and the addresses each is deployed at.

    Lookups prefer the ABI bound to the emitting address, then fall back to any registered ABI
    (in registration order), so events of contracts deployed by other means (a factory, raw
    create) still decode when some registered ABI declares them.
    """

    def __init__(self) -> None:
        self._abis: dict[str, _CompiledAbi] = {}
        self._raw: dict[str, tuple[Mapping[str, Any], ...]] = {}
        self._bound: dict[str, str] = {}
        """Lower-case address -> contract name."""
        self._events: dict[bytes, tuple[_EventSpec, ...]] = {}
        self._errors: dict[bytes, tuple[_ErrorSpec, ...]] = {}

    def register(
        self, name: str, abi: Sequence[Mapping[str, Any]], address: str | None = None
    ) -> None:
        """Register (or replace) contract ``name``'s ABI, optionally binding an address.

        Registering the same name again replaces its ABI and keeps its earlier bindings, so
        ``register(name, abi, addr)`` after every deployment is fine.

        Args:
            name: Contract (artifact) name, reported as ``DecodedEvent.contract``.
            abi: The ABI as a list of JSON items; only events and errors are used.
            address: A deployed address to bind to this contract.

        Raises:
            ValueError: If the ABI has an event or error with an invalid type.
        """
        self._abis[name] = _compile(name, abi)
        self._raw[name] = tuple(abi)
        self._reindex()
        if address is not None:
            self.bind(name, address)

    def bind(self, name: str, address: str) -> None:
        """Bind a deployed ``address`` to the registered contract ``name``.

        Raises:
            KeyError: If no ABI is registered under ``name``.
        """
        if name not in self._abis:
            raise KeyError(f"no ABI registered for contract {name!r}")
        self._bound[address.lower()] = name

    def contract_at(self, address: str) -> str | None:
        """Name of the contract bound to ``address``, if any."""
        return self._bound.get(address.lower())

    def abi(self, name: str) -> tuple[Mapping[str, Any], ...]:
        """The ABI registered under ``name``."""
        return self._raw[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Registered contract names, in registration order."""
        return tuple(self._abis)

    def _reindex(self) -> None:
        # Rebuilt on every register: registrations are rare (one per artifact), decodes are
        # per log, and a rebuild keeps the merged maps trivially right when an ABI is replaced.
        events: dict[bytes, list[_EventSpec]] = {}
        errors: dict[bytes, list[_ErrorSpec]] = {}
        for compiled in self._abis.values():
            for topic, specs in compiled.events.items():
                events.setdefault(topic, []).extend(specs)
            for sel, error_specs in compiled.errors.items():
                errors.setdefault(sel, []).extend(error_specs)
        self._events = {k: tuple(v) for k, v in events.items()}
        self._errors = {k: tuple(v) for k, v in errors.items()}

    def decode_log(self, address: str, topics: Sequence[bytes], data: bytes) -> DecodedEvent | None:
        """Decode a log, or return ``None`` if no registered ABI fits it.

        Candidates are events whose selector equals ``topics[0]`` and whose number of indexed
        arguments equals ``len(topics) - 1`` (ERC-20 and ERC-721 ``Transfer`` share a selector
        and differ only there). The ABI bound to ``address`` is tried first.

        Args:
            address: The emitting contract.
            topics: The log's topics; ``topics[0]`` is the event selector.
            data: The log's data.
        """
        if not topics:
            return None
        topic0 = bytes(topics[0])
        candidates = self._events.get(topic0)
        if not candidates:
            return None
        bound = self._bound.get(address.lower())
        if bound is not None:
            # Stable sort: the bound contract's events first, the rest in registration order.
            candidates = tuple(sorted(candidates, key=lambda spec: spec.contract != bound))
        n_indexed = len(topics) - 1
        for spec in candidates:
            if len(spec.topic_types) != n_indexed:
                continue
            try:
                return spec.decode(topics, bytes(data))
            except _DECODE_ERRORS:
                continue
        return None

    def decode_revert(self, data: bytes) -> str | None:
        """Render revert data as text.

        * ``Error(string)`` gives the string;
        * ``Panic(uint256)`` gives e.g. ``"Panic(0x11): arithmetic underflow or overflow"``;
        * a custom error from any registered ABI gives ``"Name(arg1, arg2)"`` (addresses
          checksummed, ints decimal, bytes hex, strings quoted);
        * anything else gives ``"unknown error 0x<selector>"``, followed by the hex of the
          remaining data in parentheses when there is any.

        Args:
            data: The revert data (return data of the reverted call).

        Returns:
            The text, or ``None`` when ``data`` is empty (a bare ``revert()``).
        """
        data = bytes(data)
        if not data:
            return None
        if len(data) < 4:
            return f"unknown error 0x{data.hex()}"
        sel, payload = data[:4], data[4:]
        if sel == ERROR_STRING_SELECTOR:
            try:
                return str(decode(["string"], payload)[0])
            except _DECODE_ERRORS:
                pass
        elif sel == PANIC_SELECTOR:
            try:
                code = int(decode(["uint256"], payload)[0])
            except _DECODE_ERRORS:
                pass
            else:
                meaning = PANIC_CODES.get(code, "unknown panic code")
                return f"Panic(0x{code:02x}): {meaning}"
        else:
            # Any ABI declaring this selector will do: the selector fixes the error's name and
            # argument types, which is all the rendered text shows.
            for spec in self._errors.get(sel, ()):
                try:
                    return spec.render(payload)
                except _DECODE_ERRORS:
                    continue
        text = f"unknown error 0x{sel.hex()}"
        return f"{text} (0x{payload.hex()})" if payload else text

    def __repr__(self) -> str:
        return f"AbiRegistry(contracts={list(self._abis)!r}, bound={len(self._bound)})"
