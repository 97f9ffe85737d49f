// bench/policy/gen.mjs: the ML-registry scenario of the policy benchmark.
// Usage: node gen.mjs OUTDIR [NREQUESTS]
// Writes policies.cedar, templates.cedar (the same plus a share template),
// entities.json (1,000 users, 10,000 artifacts, roles), links.json (10,000
// per-artifact share grants) and requests.json.  Deterministic.
import { writeFileSync, mkdirSync } from "node:fs";

const out = process.argv[2] ?? "out";
const nreq = Number(process.argv[3] ?? 10000);
mkdirSync(out, { recursive: true });

let seed = 0x9e3779b9;
function rnd(n) {		// xorshift32, uniform enough here
	seed ^= seed << 13; seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5; seed >>>= 0;
	return seed % n;
}

const ROLES = ["viewer", "data-scientist", "ml-engineer", "admin"];
const ENVS = ["dev", "staging", "prod"];
const SENS = ["low", "medium", "high"];
const ACTIONS = ["read", "write", "promote"];
const NUSERS = 1000, NART = 10000;

const policies = `// Coffer ML registry: role-based access with sensitivity, environment,
// MFA, network and time-window rules.
@id("viewers-read-low")
permit(principal in Role::"viewer", action == Action::"read",
    resource is Artifact)
when { resource.sensitivity == "low" };

@id("ds-read-write-dev")
permit(principal in Role::"data-scientist",
    action in [Action::"read", Action::"write"], resource is Artifact)
when { resource.env == "dev" };

@id("ds-read-staging")
permit(principal in Role::"data-scientist", action == Action::"read",
    resource is Artifact)
when { resource.env == "staging" };

@id("mle-read-write-dev-staging")
permit(principal in Role::"ml-engineer",
    action in [Action::"read", Action::"write"], resource is Artifact)
when { resource.env == "dev" || resource.env == "staging" };

@id("mle-read-prod")
permit(principal in Role::"ml-engineer", action == Action::"read",
    resource is Artifact)
when { resource.env == "prod" };

@id("mle-promote-prod-mfa")
permit(principal in Role::"ml-engineer", action == Action::"promote",
    resource is Artifact)
when { resource.env == "staging" && context.target == "prod" && context.mfa };

@id("admins-everything")
permit(principal in Role::"admin", action, resource);

@id("high-only-from-internal-network")
forbid(principal, action, resource is Artifact)
when { resource.sensitivity == "high" }
unless { context.source_ip.isInRange(ip("10.0.0.0/8")) };

@id("prod-writes-in-office-hours")
forbid(principal, action in [Action::"write", Action::"promote"],
    resource is Artifact)
when {
    (resource.env == "prod" || context.target == "prod") &&
    (context.now.toTime() < duration("8h") ||
     context.now.toTime() >= duration("18h"))
};

@id("authenticated-only")
forbid(principal, action, resource)
unless { context.authenticated };
`;
writeFileSync(`${out}/policies.cedar`, policies);
writeFileSync(`${out}/templates.cedar`, policies + `
@id("share")
permit(principal == ?principal, action == Action::"read",
    resource == ?resource);
`);

const entities = [];
for (const r of ROLES)
	entities.push({ uid: { type: "Role", id: r }, attrs: {}, parents: [] });
for (const a of ACTIONS)
	entities.push({ uid: { type: "Action", id: a }, attrs: {}, parents: [] });
const userRole = [];
for (let i = 0; i < NUSERS; i++) {
	// 40% viewers, 30% data scientists, 25% ML engineers, 5% admins
	const x = rnd(100);
	const role = x < 40 ? 0 : x < 70 ? 1 : x < 95 ? 2 : 3;
	userRole.push(role);
	entities.push({
		uid: { type: "User", id: `u${i}` },
		attrs: { name: `user ${i}`, team: `team${i % 37}` },
		parents: [{ type: "Role", id: ROLES[role] }],
	});
}
const art = [];
for (let i = 0; i < NART; i++) {
	const env = ENVS[rnd(3)], sens = SENS[rnd(3)];
	art.push({ env, sens });
	entities.push({
		uid: { type: "Artifact", id: `a${i}` },
		attrs: { env, sensitivity: sens, kind: i % 2 ? "model" : "dataset",
		    owner: { __entity: { type: "User", id: `u${i % NUSERS}` } } },
		parents: [],
	});
}
writeFileSync(`${out}/entities.json`, JSON.stringify(entities));

const links = [];
for (let i = 0; i < NART; i++)
	links.push({ template: "share", id: `share${i}`,
	    principal: { type: "User", id: `u${(i * 7) % NUSERS}` },
	    resource: { type: "Artifact", id: `a${i}` } });
writeFileSync(`${out}/links.json`, JSON.stringify(links));

function pad(n) { return String(n).padStart(2, "0"); }
const requests = [];
for (let i = 0; i < nreq; i++) {
	const u = rnd(NUSERS), a = rnd(NART), act = ACTIONS[rnd(10) < 7 ? 0 :
	    rnd(2) + 1];
	const internal = rnd(10) < 7;
	const ip = internal ? `10.${rnd(256)}.${rnd(256)}.${rnd(256)}` :
	    `192.168.${rnd(256)}.${rnd(256)}`;
	requests.push({
		principal: { type: "User", id: `u${u}` },
		action: { type: "Action", id: act },
		resource: { type: "Artifact", id: `a${a}` },
		context: {
			source_ip: { __extn: { fn: "ip", arg: ip } },
			mfa: rnd(2) === 1,
			authenticated: rnd(50) !== 0,
			target: act === "promote" ? "prod" : "none",
			now: { __extn: { fn: "datetime", arg:
			    `2026-03-${pad(1 + rnd(28))}T${pad(rnd(24))}:${pad(rnd(60))}:00Z` } },
		},
	});
}
writeFileSync(`${out}/requests.json`, JSON.stringify(requests));
