"""The market tools' checks: whatever arguments a model sends, a call becomes an action or a
``ToolError`` (never another exception), and accepted calls never commit more than the agent
holds."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbed.agents.agent import AgentView, BundleIntent, TxIntent
from agentbed.agents.llm.tools import MARKET_TOOLS, TOOL_NAMES, ToolContext, ToolError, run_tool
from agentbed.agents.market.world import Market
from agentbed.experiments.build import build
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
POOL = "USDC/WETH"
HELD = {"USDC": 1_000 * 10**18, "WETH": 2 * 10**18}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "x", "1e999", "NaN", POOL, "USDC", "WETH", "0x" + "ab" * 32])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "pool",
                    "sell",
                    "amount",
                    "max_slippage_bps",
                    "tip_gwei",
                    "swaps",
                    "after_tx",
                    "reason",
                    "extra",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)
swap_args = st.fixed_dictionaries(
    {
        "pool": st.sampled_from([POOL, "WETH/USDC"]),
        "sell": st.sampled_from(["USDC", "WETH", "DAI"]),
        "amount": st.one_of(st.floats(-1, 5000), st.integers(-5, 5000)),
    },
    optional={"max_slippage_bps": st.integers(-10, 6000), "tip_gwei": st.floats(-1, 100)},
)


@pytest.fixture(scope="module")
def market() -> Market:
    _, world = build(
        load_with_overrides(ROOT / "scenarios" / "llm_market.toml", [("run.blocks", 1)])
    )
    assert isinstance(world, Market)
    return world


def context(market: Market) -> ToolContext:
    chain = market.chain
    view = AgentView(
        now_ms=0,
        reason="schedule",
        head=chain.head,
        base_fee=chain.base_fee,
        nonce=0,
        confirmed_nonce=0,
        pending=(),
        trigger=None,
        new_blocks=(),
        reader=chain,
        market=market,
    )
    return ToolContext(view, chain.accounts[1].address, dict(HELD), 10**9, 50.0, 0.05)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([*TOOL_NAMES, "nope", ""]), values | st.text(max_size=30))
def test_fuzz_any_arguments_give_an_action_or_a_tool_error(
    market: Market, name: str, arguments: Any
) -> None:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
    try:
        action = run_tool(name, raw, context(market))
    except ToolError as err:
        assert str(err)
    else:
        assert action is None or isinstance(action, TxIntent | BundleIntent)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(swap_args, min_size=1, max_size=6))
def test_fuzz_accepted_swaps_never_spend_more_than_is_held(
    market: Market, calls: list[dict[str, Any]]
) -> None:
    ctx = context(market)
    spent = dict.fromkeys(HELD, 0)
    for args in calls:
        try:
            run_tool("swap", json.dumps(args), ctx)
        except ToolError:
            continue
        spent[args["sell"]] += int(Decimal(str(args["amount"])) * 10**18)
    for symbol, held in HELD.items():
        assert spent[symbol] <= held
        assert ctx.balances[symbol] == held - spent[symbol]


def test_a_refused_bundle_leg_commits_nothing(market: Market) -> None:
    ctx = context(market)
    legs = [
        {"pool": POOL, "sell": "WETH", "amount": 1},
        {"pool": POOL, "sell": "WETH", "amount": 5},
    ]
    with pytest.raises(ToolError, match=r"swaps\[1\]: amount 5 WETH exceeds your balance 1"):
        run_tool("bundle", {"swaps": legs}, ctx)
    assert ctx.balances == HELD


def test_the_tool_schemas_forbid_unknown_keys_and_name_their_required_ones() -> None:
    assert TOOL_NAMES == ("swap", "bundle", "do_nothing")
    for tool in MARKET_TOOLS:
        parameters = tool["function"]["parameters"]
        assert parameters["additionalProperties"] is False
        assert set(parameters["required"]) <= set(parameters["properties"])


@pytest.mark.parametrize(
    ("name", "args", "error"),
    [
        (
            "swap",
            {"pool": POOL, "sell": "WETH", "amount": 1, "color": "red"},
            "unknown argument(s) color",
        ),
        ("swap", {"pool": POOL, "amount": 1}, "missing argument(s) sell"),
        ("swap", {"pool": POOL, "sell": "DAI", "amount": 1}, "sell must be USDC or WETH"),
        (
            "swap",
            {"pool": POOL, "sell": "WETH", "amount": 1, "max_slippage_bps": 9000},
            "max_slippage_bps must be in [0, 5000]",
        ),
        ("swap", {"pool": POOL, "sell": "USDC", "amount": 1e-18}, "buys nothing"),
        ("swap", {"pool": POOL, "sell": "WETH", "amount": True}, "amount must be a number"),
        ("swap", [1, 2], "arguments must be a JSON object"),
        ("do_nothing", {"why": "x"}, "unknown argument(s) why"),
    ],
)
def test_each_check_says_what_was_wrong(market: Market, name: str, args: Any, error: str) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool(name, json.dumps(args), context(market))
    assert error in str(caught.value)
