// bench/policy/oracle.mjs: evaluate requests with the reference Cedar
// implementation (@cedar-policy/cedar-wasm).
// Usage: node oracle.mjs POLICIES.cedar ENTITIES.json REQUESTS.json
// Prints one JSON line per request, in the same format as
// `coffer policy eval`: {"decision":..,"reasons":[..],"errors":[..]}.
import { readFileSync } from "node:fs";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";

const [pfile, efile, rfile] = process.argv.slice(2);
const policies = readFileSync(pfile, "utf8");
const entities = JSON.parse(readFileSync(efile, "utf8"));
const requests = JSON.parse(readFileSync(rfile, "utf8"));
const pre = cedar.preparsePolicySet("p", { staticPolicies: policies });
if (pre.type !== "success") {
	console.log(JSON.stringify({ parse_error: pre.errors.map((e) => e.message) }));
	process.exit(0);
}
for (const r of requests) {
	const ans = cedar.statefulIsAuthorized({
		principal: r.principal, action: r.action, resource: r.resource,
		context: r.context ?? {}, preparsedPolicySetId: "p", entities,
	});
	if (ans.type !== "success") {
		console.log(JSON.stringify({ failure: ans.errors.map((e) => e.message) }));
		continue;
	}
	const d = ans.response.diagnostics;
	console.log(JSON.stringify({
		decision: ans.response.decision,
		reasons: [...d.reason].sort(),
		errors: d.errors.map((e) => e.policyId).sort(),
		messages: d.errors.map((e) => e.error.message),
	}));
}
