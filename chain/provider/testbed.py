"""The testbed's own controls over JSON-RPC: ordering policy, latency, and an observer's pool view.

* ``testbed_setPolicy(name, params?)``: the ordering policy of the next blocks, by the names
  :func:`agentbed.chain.ordering.parse_policy` reads (``"fifo"``, ``"priority"``, ``"random"``,
  ``"batch"``, ``"bundles"`` and their aliases), with constructor params as an object (e.g.
  ``{"window_ms": 500}``, ``{"inner": "fifo"}``). Answers the policy's canonical name.
* ``testbed_setLatency(model)``: when each observer sees a pending tx. ``model`` is one of
  ``{"ms": 200}`` (everyone, :class:`ConstantLatency`), ``{"delays": {"alice": 0, "bob": 400},
  "defaultMs": 100}`` (:class:`PerObserverLatency`) or ``{"seed": 7, "lowMs": 0, "highMs":
  300}`` (:class:`RandomLatency`); a bare number is ``{"ms": n}``. Answers true.
* ``testbed_mempoolView(observer, atMs?)``: the pool as ``observer`` sees it now (or at
  simulated time ``atMs``, milliseconds since the epoch): ``{"observer", "nowMs",
  "transactions"}``, each transaction as in ``txpool_content`` plus ``arrivalMs`` and
  ``visibleAtMs`` (when it reached the observer), in the order ``Chain.mempool_view`` gives.
* ``testbed_registerAbi(name, abi, address?)``: tell the chain a contract's ABI (and where it
  is deployed), as Hardhat knows its artifacts: its custom errors then decode in revert
  messages and its events in receipts. Contracts deployed through ``Chain.deploy`` are known
  already; this is for clients that deploy their own bytecode. Answers true.

Policy and latency are part of a chain snapshot, so ``evm_revert`` restores them; registered
ABIs are additive and are not rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentbed.chain.interfaces import LatencyModel
from agentbed.chain.latency import ConstantLatency, PerObserverLatency, RandomLatency
from agentbed.chain.ordering import parse_policy
from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import InvalidParams

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

_PARAM_TYPES = (int, float, str, bool)
"""What a policy parameter may be over JSON-RPC (no nested objects)."""


def set_policy(chain: Chain, params: list[Any]) -> str:
    """``testbed_setPolicy(name, params?)``: the ordering policy from the next block on."""
    name, raw_params = prm.args(params, 1, 2)
    if not isinstance(name, str):
        raise InvalidParams(f"policy name must be a string, got {name!r}")
    kwargs = dict(prm.object_arg(raw_params, "policy params")) if raw_params is not None else {}
    for key, value in kwargs.items():
        if not isinstance(value, _PARAM_TYPES):
            raise InvalidParams(f"policy param {key!r} must be a number, string or boolean")
    try:
        spec = parse_policy(name, kwargs)
        chain.set_policy(spec.build())
    except (TypeError, ValueError, OverflowError) as err:
        raise InvalidParams(str(err)) from err
    return spec.name


def _ms(spec: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = spec.get(key, default)
    if value is None:
        raise InvalidParams(f"latency model needs {key!r}")
    return prm.uint64(value, key)


def latency_model(raw: Any) -> LatencyModel:
    """The latency model a ``testbed_setLatency`` parameter describes (see the module doc)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"ms": raw}
    spec = prm.object_arg(raw, "latency model")
    kinds = [k for k in ("ms", "delays", "seed") if k in spec]
    if len(kinds) != 1:
        raise InvalidParams('latency model needs exactly one of "ms", "delays" or "seed"')
    if kinds[0] == "ms":
        return ConstantLatency(_ms(spec, "ms"))
    if kinds[0] == "delays":
        delays = prm.object_arg(spec["delays"], "delays")
        parsed = {str(who): prm.uint64(ms, f"delay of {who!r}") for who, ms in delays.items()}
        return PerObserverLatency(parsed, _ms(spec, "defaultMs", 0))
    seed = spec["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InvalidParams(f"latency seed must be an integer, got {seed!r}")
    low, high = _ms(spec, "lowMs"), _ms(spec, "highMs")
    if high < low:
        raise InvalidParams(f"highMs ({high}) must be >= lowMs ({low})")
    return RandomLatency(seed, low, high)


def set_latency(chain: Chain, params: list[Any]) -> bool:
    """``testbed_setLatency(model)``: replace the chain's latency model."""
    (raw,) = prm.args(params, 1, 1)
    chain.latency = latency_model(raw)
    return True


def mempool_view(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``testbed_mempoolView(observer, atMs?)``: what ``observer`` sees of the pool."""
    observer, at = prm.args(params, 1, 2)
    if not isinstance(observer, str) or not observer:
        raise InvalidParams(f"observer must be a non-empty string, got {observer!r}")
    now = chain.now_ms if at is None else prm.uint64(at, "atMs")
    transactions = []
    for ptx in chain.mempool_view(observer, now):
        delay = 0 if ptx.origin == observer else chain.latency.delay_ms(ptx, observer)
        entry = enc.pool_tx_json(ptx)
        entry["arrivalMs"] = ptx.arrival_ms
        entry["visibleAtMs"] = ptx.arrival_ms + delay
        transactions.append(entry)
    return {"observer": observer, "nowMs": now, "transactions": transactions}


_BAD_ABI = (KeyError, TypeError, ValueError, AttributeError, IndexError)
"""What compiling a malformed ABI item can raise (a missing name, a bad type string, ...)."""


def register_abi(chain: Chain, params: list[Any]) -> bool:
    """``testbed_registerAbi(name, abi, address?)``: decode this contract's errors and events."""
    name, abi, raw_address = prm.args(params, 2, 3)
    if not isinstance(name, str) or not name:
        raise InvalidParams(f"contract name must be a non-empty string, got {name!r}")
    if not isinstance(abi, list) or not all(isinstance(item, Mapping) for item in abi):
        raise InvalidParams("abi must be an array of ABI item objects")
    address = None if raw_address is None else prm.address(raw_address, "address")
    try:
        chain.abi.register(name, abi, address)
    except _BAD_ABI as err:
        raise InvalidParams(f"invalid abi for {name!r}: {err}") from err
    return True


TESTBED_METHODS = {
    "testbed_setPolicy": set_policy,
    "testbed_setLatency": set_latency,
    "testbed_mempoolView": mempool_view,
    "testbed_registerAbi": register_abi,
}
"""The testbed's controls, for the provider's method table."""
