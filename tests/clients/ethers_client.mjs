// An ethers.js v6 client against a running `testbed node`, as a dapp or searcher would use it.
//
// Usage: node ethers_client.mjs <http-url> <artifact.json>
//   artifact.json: {"abi": [...], "bytecode": "0x..."} of MockERC20.
// Prints one JSON object with what each step observed; tests/chain/test_clients_ethers.py
// asserts on it. A step that fails throws, so the process exits non-zero with the error.

import { readFileSync } from "node:fs";
import {
  ContractFactory,
  Contract,
  JsonRpcProvider,
  WebSocketProvider,
  Wallet,
  keccak256,
  toUtf8Bytes,
  parseEther,
} from "ethers";

const [url, artifactPath] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
const out = {};

// The first value `register` delivers once `trigger` has run. `barrier` is a round trip on the
// subscribing socket after registering, so the node has the subscription before `trigger`
// acts through another connection. Rejects (the script fails loudly rather than hangs) if
// nothing arrives within a generous grace.
async function firstEvent(register, barrier, trigger, what) {
  let deliver;
  const arrived = new Promise((resolve, reject) => {
    deliver = resolve;
    setTimeout(() => reject(new Error(`no ${what} arrived`)), 60_000).unref();
  });
  await register(deliver);
  await barrier();
  await trigger();
  return arrived;
}

const http = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
out.chainId = Number((await http.getNetwork()).chainId);
const deployer = await http.getSigner(0);
const holder = await http.getSigner(1);

// Deploy and transact through an unlocked node account (eth_sendTransaction).
const factory = new ContractFactory(artifact.abi, artifact.bytecode, deployer);
const token = await factory.deploy("Agent", "AGT");
await token.waitForDeployment();
out.token = await token.getAddress();

// A polling filter (eth_newFilter / eth_getFilterChanges) sees the mint's Transfer.
const filterId = await http.send("eth_newFilter", [{ address: out.token }]);
const minted = await (await token.mint(holder.address, 500n)).wait();
out.mintStatus = minted.status;
const changes = await http.send("eth_getFilterChanges", [filterId]);
out.filterTransfers = changes.map((log) => {
  const parsed = token.interface.parseLog(log);
  return [parsed.name, parsed.args.to, parsed.args.value.toString()];
});
out.balance = (await token.balanceOf(holder.address)).toString();
out.queried = (await token.queryFilter(token.filters.Transfer())).length;

// A revert: ethers decodes the custom error from the raw data inside the error object; the
// node's message names it too, once the node knows the ABI (testbed_registerAbi).
await http.send("testbed_registerAbi", ["MockERC20", artifact.abi, out.token]);
try {
  await token.connect(deployer).transfer.staticCall(holder.address, 1n);
  out.revert = null;
} catch (err) {
  out.revert = { code: err.code, name: err.revert?.name, args: err.revert?.args.map(String) };
}
const transferData = token.interface.encodeFunctionData("transfer", [holder.address, 1n]);
try {
  await http.send("eth_call", [{ from: deployer.address, to: out.token, data: transferData }]);
  out.revertMessage = null;
} catch (err) {
  out.revertMessage = err.info?.error?.message ?? null;
  out.revertData = err.data;
}

// Subscriptions over a WebSocket: a Transfer through `logs`, a tx through
// `newPendingTransactions`.
const ws = new WebSocketProvider(url.replace("http", "ws"));
const wsToken = new Contract(out.token, artifact.abi, ws);
const barrier = () => ws.send("net_version", []);
const event = await firstEvent(
  (deliver) => wsToken.once("Transfer", (from, to, value) => deliver([to, value.toString()])),
  barrier,
  async () => (await token.mint(holder.address, 7n)).wait(),
  "Transfer notification",
);
out.subscribedTransfer = event;
let sentHash = null;
const pending = await firstEvent(
  (deliver) => ws.once("pending", deliver),
  barrier,
  async () => {
    sentHash = (await deployer.sendTransaction({ to: holder.address, value: 1n })).hash;
  },
  "pending transaction notification",
);
out.pendingMatches = pending === sentHash;

// Impersonation (anvil's cheat code): send from an address the node holds no key for.
const stranger = "0x00000000000000000000000000000000000b0b00";
await http.send("anvil_impersonateAccount", [stranger]);
await (await deployer.sendTransaction({ to: stranger, value: parseEther("1") })).wait();
const stranger_ = await http.getSigner(stranger);
const impersonated = await (await stranger_.sendTransaction({ to: holder.address, value: 5n })).wait();
out.impersonated = { status: impersonated.status, from: impersonated.from };

// A searcher's bundle, signed locally: eth_callBundle, then eth_sendBundle for the next block.
const searcher = new Wallet(keccak256(toUtf8Bytes("ethers-client searcher")), http);
await (await deployer.sendTransaction({ to: searcher.address, value: parseEther("1") })).wait();
const head = await http.getBlockNumber();
const fees = await http.getFeeData();
const bribe = await searcher.signTransaction({
  to: "0x000000000000000000000000000000000000C0FE", // the node's coinbase
  value: 10n ** 15n,
  nonce: await http.getTransactionCount(searcher.address),
  gasLimit: 21_000n,
  maxFeePerGas: fees.maxFeePerGas,
  maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
  chainId: BigInt(out.chainId),
  type: 2,
});
const blockNumber = "0x" + (head + 1).toString(16);
const sim = await http.send("eth_callBundle", [{ txs: [bribe], blockNumber }]);
out.callBundle = {
  gasUsed: sim.totalGasUsed,
  ethSentToCoinbase: sim.ethSentToCoinbase,
  txHash: sim.results[0].txHash,
};
await http.send("testbed_setPolicy", ["bundles"]);
out.sendBundle = await http.send("eth_sendBundle", [{ txs: [bribe], blockNumber }]);
await http.send("evm_mine", []);
const bribeHash = keccak256(bribe);
const landed = await http.getTransactionReceipt(bribeHash);
out.bundleLanded = { status: landed.status, block: landed.blockNumber, target: head + 1 };

await ws.destroy();
http.destroy();
console.log(JSON.stringify(out));
