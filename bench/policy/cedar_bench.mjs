// bench/policy/cedar_bench.mjs: the reference implementation
// (@cedar-policy/cedar-wasm, pre-parsed policies) on the same scenario.
// Usage: node cedar_bench.mjs DIR base|links DECISIONS_OUT
// Each call gets the entities the request can reach (principal and its
// roles, resource, action): cedar-wasm has no pre-parsed entity store, and
// passing all 11,000 entities per call would measure JSON conversion.
import { readFileSync, writeFileSync } from "node:fs";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";

const [dir, variant, outFile, limitArg] = process.argv.slice(2);
const limit = Number(limitArg ?? 0);
const links = variant === "links";
const text = readFileSync(`${dir}/${links ? "templates" : "policies"}.cedar`,
    "utf8");

// cedar-wasm names policies of a text policy0, policy1, ...: split the text
// at each @id annotation so the ids are the annotated ones, as in Coffer.
const parts = text.split(/(?=@id\(")/).filter((p) => p.includes("@id("));
const staticPolicies = {}, templates = {};
for (const p of parts) {
	const id = /@id\("([^"]*)"\)/.exec(p)[1];
	(p.includes("?principal") || p.includes("?resource") ? templates :
	    staticPolicies)[id] = p;
}
const pset = { staticPolicies, templates, templateLinks: [] };
if (links)
	for (const l of JSON.parse(readFileSync(`${dir}/links.json`, "utf8")))
		pset.templateLinks.push({ templateId: l.template, newId: l.id,
		    values: { "?principal": l.principal, "?resource": l.resource } });
let t0 = process.hrtime.bigint();
const pre = cedar.preparsePolicySet("bench", pset);
const tParse = Number(process.hrtime.bigint() - t0) / 1e6;
if (pre.type !== "success") {
	console.error(JSON.stringify(pre.errors));
	process.exit(1);
}

const entities = JSON.parse(readFileSync(`${dir}/entities.json`, "utf8"));
const byKey = new Map(entities.map((e) => [`${e.uid.type}::${e.uid.id}`, e]));
const key = (u) => `${u.type}::${u.id}`;
let requests = JSON.parse(readFileSync(`${dir}/requests.json`, "utf8"));
if (limit > 0) requests = requests.slice(0, limit);
const calls = requests.map((r) => {
	const slice = [], seen = new Set();
	const add = (u) => {
		const k = key(u);
		if (seen.has(k) || !byKey.has(k)) return;
		seen.add(k);
		const e = byKey.get(k);
		slice.push(e);
		for (const p of e.parents) add(p);
	};
	add(r.principal); add(r.resource); add(r.action);
	return { principal: r.principal, action: r.action, resource: r.resource,
	    context: r.context, preparsedPolicySetId: "bench", entities: slice };
});

function decide(c) {
	const a = cedar.statefulIsAuthorized(c);
	if (a.type !== "success") throw new Error(JSON.stringify(a.errors));
	return a.response;
}

const lines = [];
let nallow = 0;
for (const c of calls) {
	const r = decide(c);
	if (r.decision === "allow") nallow++;
	lines.push(`${r.decision} [${[...r.diagnostics.reason].sort().join(",")}]` +
	    ` [${r.diagnostics.errors.map((e) => e.policyId).sort().join(",")}]`);
}
writeFileSync(outFile, lines.join("\n") + "\n");

// Throughput, then per-call latency.
let rounds = 0;
t0 = process.hrtime.bigint();
let t1 = t0;
while (Number(t1 - t0) < 2e9 && (rounds === 0 || limit === 0)) {
	for (const c of calls) decide(c);
	rounds++;
	t1 = process.hrtime.bigint();
}
const dps = rounds * calls.length / (Number(t1 - t0) / 1e9);
const lat = [];
for (const c of calls) {
	const s = process.hrtime.bigint();
	decide(c);
	lat.push(Number(process.hrtime.bigint() - s));
}
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ impl: "cedar-wasm", variant,
    version: cedar.getCedarVersion(), requests: calls.length, allow: nallow,
    decisions_per_s: Math.round(dps),
    p50_us: lat[Math.floor(lat.length / 2)] / 1e3,
    p99_us: lat[Math.floor(lat.length * 99 / 100)] / 1e3,
    policies_load_ms: tParse }));
