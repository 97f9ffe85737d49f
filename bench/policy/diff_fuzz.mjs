// bench/policy/diff_fuzz.mjs: differential fuzzing of Coffer's Cedar engine
// against the reference implementation (@cedar-policy/cedar-wasm).
//
// Usage: node diff_fuzz.mjs COFFER_BINARY [CASES] [SEED]
//
// Each case is a random policy set (random scopes and conditions over every
// operator, extension function and value type, many of them ill-typed on
// purpose), a random entity store (attributes, parents including dangling
// and cyclic ones, tags, __entity and __extn values) and a few random
// requests.  Coffer evaluates them with `coffer policy eval`, cedar-wasm
// in-process; decisions, reasons and errors must all agree, and a policy
// set must parse in one exactly when it parses in the other.  Cases that
// disagree are saved under out/diff/.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";

const [bin, ncasesArg, seedArg] = process.argv.slice(2);
const ncases = Number(ncasesArg ?? 1000);
let seed = Number(seedArg ?? 12345) >>> 0 || 1;
const dir = new URL("./out/diff/", import.meta.url).pathname;
mkdirSync(dir, { recursive: true });

function rnd(n) {
	seed ^= seed << 13; seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5; seed >>>= 0;
	return seed % n;
}
const pick = (a) => a[rnd(a.length)];

const TYPES = ["User", "Group", "Doc", "NS::Thing"];
const IDS = ["a", "b", "", "x y", "\u00e9"];
const UIDS = [];
for (const t of TYPES) for (const i of IDS.slice(0, 3)) UIDS.push({ type: t, id: i });
const ACTIONS = [{ type: "Action", id: "read" }, { type: "Action", id: "write" },
    { type: "NS::Action", id: "go" }];
const ATTRS = ["a", "b", "n", "s", "e", "set", "rec", "ip", "d", "t"];
// Now and then a name Cedar reserves, which must fail to parse.
const attr = () => rnd(40) ? pick(ATTRS) : pick(["if", "in", "like", "__cedar",
    "principal", "true"]);
const STRS = ["", "a", "abc", "a*c", "héllo", "\u0000", "x\ny", "10.0.0.1"];
const IPS = ["10.0.0.1", "10.0.0.0/8", "127.0.0.1", "::1", "ff02::1",
    "224.0.0.1", "192.168.1.1/24", "1.2.3.4/33", "01.2.3.4", "::ffff:1.2.3.4",
    "1:2:3:4:5:6:7:8", "::", "fe80::1/64", "abc", "1.2.3.4/0"];
const DECS = ["0.0", "1.5", "-1.25", "922337203685477.5807",
    "-922337203685477.5808", "1.23456", "1", "12.3400", "-0.0001"];
const DTS = ["2024-01-01", "2024-01-01T12:00:00Z", "1969-12-31T23:59:59.999Z",
    "2024-02-29", "2024-06-15T10:00:00+0530",
    "2024-06-15T10:00:00.123-2359", "0000-01-01", "2023-02-29", "9999-12-31T23:59:59Z",
    "2024-1-01", "2024-01-01T24:00:00Z"];
const DURS = ["1h", "-1d2h", "90m", "1ms", "0s", "1d1h1m1s1ms",
    "9223372036854775807ms", "-9223372036854775808ms", "1h1d", "", "-",
    "106751991167d", "3s"];
const INTS = ["0", "1", "-1", "42", "9223372036854775807",
    "-9223372036854775808", "4611686018427387904", "-3"];

function str(s) {
	let o = '"';
	for (const ch of s) {
		const c = ch.codePointAt(0);
		if (ch === '"' || ch === "\\") o += "\\" + ch;
		else if (c < 0x20 || c === 0x7f) o += rnd(2) ? `\\u{${c.toString(16)}}` :
		    c === 10 ? "\\n" : c === 0 ? "\\0" : `\\u{${c.toString(16)}}`;
		else o += ch;
	}
	return o + '"';
}
const uidText = (u) => `${u.type}::${str(u.id)}`;

function expr(d) {
	if (d <= 0) {
		switch (rnd(9)) {
		case 0: return pick(INTS);
		case 1: return str(pick(STRS));
		case 2: return pick(["true", "false"]);
		case 3: return uidText(pick(UIDS.concat(ACTIONS)));
		case 4: return pick(["principal", "action", "resource", "context"]);
		case 5: return `${pick(["principal", "resource", "context"])}.${attr()}`;
		case 6: return `ip(${str(pick(IPS))})`;
		case 7: return pick([`decimal(${str(pick(DECS))})`,
		    `datetime(${str(pick(DTS))})`, `duration(${str(pick(DURS))})`]);
		default: return `context[${str(pick(ATTRS))}]`;
		}
	}
	const e = () => expr(d - 1 - rnd(2));
	switch (rnd(24)) {
	case 0: return `(${e()} ${pick(["==", "!=", "<", "<=", ">", ">="])} ${e()})`;
	case 1: return `(${e()} ${pick(["&&", "||"])} ${e()})`;
	case 2: return `(${e()} ${pick(["+", "-", "*"])} ${e()})`;
	case 3: return `${pick(["!", "-"])}(${e()})`;
	case 4: return `(if ${e()} then ${e()} else ${e()})`;
	case 5: return `(${e()} in ${rnd(2) ? e() : `[${e()}, ${e()}]`})`;
	case 6: return `(${e()} has ${attr()}${rnd(4) ? "" : "." + attr()})`;
	case 7: return `(${e()} like ${pick(['"*"', '"a*"', '"*c"', '"a\\*c"', '""',
	    '"*b*"', '"h*o"', '"a\\u{2a}"', '"\\x2a\\*"', '"**"'])})`;
	case 8: return `(${e()} is ${pick(TYPES)}${rnd(3) ? "" : ` in ${e()}`})`;
	case 9: return `[${e()}, ${e()}]`;
	case 10: return `{${attr()}: ${e()}, ${str("k" + rnd(3))}: ${e()}}`;
	case 11: return `${e()}.${pick(["contains", "containsAll", "containsAny"])}(${e()})`;
	case 12: return `${e()}.isEmpty()`;
	case 13: return `${e()}.${pick(["hasTag", "getTag"])}(${rnd(3) ? str(pick(["t", "u", ""])) : e()})`;
	case 14: return `${e()}.${pick(["isIpv4", "isIpv6", "isLoopback", "isMulticast"])}()`;
	case 15: return `${e()}.isInRange(${e()})`;
	case 16: return `${e()}.${pick(["lessThan", "lessThanOrEqual", "greaterThan",
	    "greaterThanOrEqual"])}(${e()})`;
	case 17: return `${e()}.${pick(["offset", "durationSince"])}(${e()})`;
	case 18: return `${e()}.${pick(["toDate", "toTime", "toDays", "toHours",
	    "toMinutes", "toSeconds", "toMilliseconds"])}()`;
	case 19: return `${e()}.${attr()}`;
	case 20: return `${pick(["ip", "decimal", "datetime", "duration"])}(${e()})`;
	case 21: return `[${e()}, ${e()}].contains(${e()})`;
	case 22: return `(${e()} == ${e()} && ${e()})`;
	default: return `(${e()} ${pick(["<", ">="])} ${e()})`;
	}
}

function scope(v) {
	const pool = v === "action" ? ACTIONS : UIDS;
	switch (rnd(v === "action" ? 4 : 6)) {
	case 0: return v;
	case 1: return `${v} == ${uidText(pick(pool))}`;
	case 2: return v === "action" ? `${v} in [${uidText(pick(pool))}, ${uidText(pick(pool))}]` :
	    `${v} in ${uidText(pick(pool))}`;
	case 3: return v === "action" ? `${v} in ${uidText(pick(pool))}` : `${v} is ${pick(TYPES)}`;
	case 4: return `${v} is ${pick(TYPES)} in ${uidText(pick(pool))}`;
	default: return v;
	}
}

function policies() {
	const n = 1 + rnd(4);
	let s = "";
	for (let i = 0; i < n; i++) {
		s += `${pick(["permit", "forbid"])}(${scope("principal")}, ${scope("action")}, ${scope("resource")})`;
		for (let k = rnd(3); k > 0; k--)
			s += ` ${pick(["when", "unless"])} { ${expr(1 + rnd(4))} }`;
		s += ";\n";
	}
	return s;
}

function value(d) {
	switch (rnd(d > 0 ? 9 : 6)) {
	case 0: return rnd(2) === 1;
	case 1: return pick([0, 1, -7, 42, 9007199254740991]);
	case 2: return pick(STRS);
	case 3: return { __entity: pick(UIDS) };
	case 4: return { __extn: pick([{ fn: "ip", arg: pick(IPS.slice(0, 7)) },
	    { fn: "decimal", arg: pick(DECS.slice(0, 5)) },
	    { fn: "datetime", arg: pick(DTS.slice(0, 7)) },
	    { fn: "duration", arg: pick(DURS.slice(0, 7)) }]) };
	case 5: return pick(["a", "abc", "x"]);
	case 6: return [value(d - 1), value(d - 1)];
	case 7: { const r = {}; for (let k = rnd(3); k > 0; k--) r[pick(ATTRS)] = value(d - 1); return r; }
	default: return { type: pick(TYPES), id: "a" };
	}
}

function entities() {
	const out = [], seen = new Set();
	for (const u of UIDS.concat(ACTIONS)) {
		if (rnd(3) === 0) continue;
		const k = u.type + "::" + u.id;
		if (seen.has(k)) continue;
		seen.add(k);
		const attrs = {};
		for (let n = rnd(5); n > 0; n--) attrs[pick(ATTRS)] = value(2);
		const parents = [];
		const isAct = ACTIONS.includes(u);
		// Mostly a DAG (parents later in the list), now and then anything
		// (Cedar rejects cycles) or a parent that is not an entity.
		const pool = isAct ? ACTIONS : UIDS;
		const later = pool.slice(pool.indexOf(u) + 1);
		for (let n = rnd(3); n > 0; n--) {
			if (rnd(30) === 0) parents.push(pick(pool));
			else if (!isAct && rnd(6) === 0) parents.push({ type: "Org", id: "dangling" });
			else if (later.length > 0) parents.push(pick(later));
		}
		const e = { uid: u, attrs, parents };
		if (rnd(2)) { e.tags = {}; for (let n = rnd(3); n > 0; n--) e.tags[pick(["t", "u", ""])] = value(1); }
		out.push(e);
	}
	return out;
}

function context() {
	const c = {};
	for (let n = rnd(5); n > 0; n--) c[pick(ATTRS)] = value(2);
	return c;
}

const sortIds = (a) => [...a].sort().join(",");
const reasons = {};
let agreed = 0, disagreed = 0, parseBoth = 0, requestsCompared = 0;
for (let i = 0; i < ncases; i++) {
	const pol = policies(), ents = entities();
	const reqs = [];
	for (let k = 0; k < 4; k++)
		reqs.push({ principal: pick(UIDS), action: pick(ACTIONS),
		    resource: pick(UIDS), context: context() });
	const pre = cedar.preparsePolicySet("d", { staticPolicies: pol });
	const entsChk = cedar.checkParseEntities({ entities: ents });
	const entsOk = entsChk.type === "success";
	if (!entsOk) reasons[entsChk.errors[0].message.slice(0, 90)] =
	    (reasons[entsChk.errors[0].message.slice(0, 90)] ?? 0) + 1;
	writeFileSync(`${dir}/case.cedar`, pol);
	writeFileSync(`${dir}/case.entities.json`, JSON.stringify(ents));
	writeFileSync(`${dir}/case.requests.json`, JSON.stringify(reqs));
	let ours, ourErr = null;
	try {
		ours = execFileSync(bin, ["policy", "eval", "--policies", `${dir}/case.cedar`,
		    "--entities", `${dir}/case.entities.json`, "--requests",
		    `${dir}/case.requests.json`], { stdio: ["ignore", "pipe", "pipe"] })
		    .toString().trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
	} catch (e) {
		ourErr = (e.stderr ?? "").toString().trim();
	}
	let bad = null;
	if (pre.type !== "success") {
		if (ourErr === null) bad = `cedar rejects the policies (${pre.errors[0].message}), coffer accepts`;
		else { parseBoth++; reasons[pre.errors[0].message.slice(0, 70)] =
		    (reasons[pre.errors[0].message.slice(0, 70)] ?? 0) + 1; }
	} else if (!entsOk) {
		if (ourErr === null) bad = "cedar rejects the entities, coffer accepts";
		else parseBoth++;
	} else if (ourErr !== null) {
		bad = `coffer failed: ${ourErr}`;
	} else {
		for (let k = 0; k < reqs.length && !bad; k++) {
			const a = cedar.statefulIsAuthorized({ ...reqs[k], preparsedPolicySetId: "d",
			    entities: ents });
			if (a.type !== "success") {
				bad = `cedar failed on request ${k}: ${a.errors[0].message}`;
				break;
			}
			const r = a.response, o = ours[k];
			requestsCompared++;
			if (r.decision !== o.decision || sortIds(r.diagnostics.reason) !== sortIds(o.reasons) ||
			    sortIds(r.diagnostics.errors.map((e) => e.policyId)) !== sortIds(o.errors.map((e) => e.policy)))
				bad = `request ${k}: cedar ${JSON.stringify({ d: r.decision, r: r.diagnostics.reason,
				    e: r.diagnostics.errors })} coffer ${JSON.stringify(o)}`;
		}
	}
	if (bad) {
		disagreed++;
		const base = `${dir}/fail-${i}`;
		writeFileSync(`${base}.cedar`, pol);
		writeFileSync(`${base}.entities.json`, JSON.stringify(ents, null, 1));
		writeFileSync(`${base}.requests.json`, JSON.stringify(reqs, null, 1));
		writeFileSync(`${base}.txt`, bad + "\n");
		if (disagreed <= 5) console.error(`case ${i}: ${bad.slice(0, 600)}`);
	} else agreed++;
}
if (process.env.DIFF_VERBOSE) console.error(reasons);
console.log(JSON.stringify({ cases: ncases, agreed, disagreed,
    both_rejected_input: parseBoth, requests_compared: requestsCompared }));
process.exit(disagreed === 0 ? 0 : 1);
