/* src/core/actions.c: the action registry (see actions.h).  Keep it
 * sorted by name: cf_action_find searches it by bisection, and a unit
 * test checks the order. */
#include <stdlib.h>
#include <string.h>

#include "core/actions.h"

#define SC	CF_ACT_SCOPABLE
#define SELF	CF_ACT_SELF
#define NS	CF_ACT_NS
#define ST	CF_ACT_STORE

static const struct cf_action_def registry[] = {
	{ "access:stale", "binding", CF_ROLE_ADMIN, SC,
	    "list bindings and API tokens unused for a period" },
	{ "access:who", "namespace", CF_ROLE_OWNER, SC | NS,
	    "list who may act on a namespace or object (owner of it)" },
	{ "alert:fired", "alert", CF_ROLE_NONE, CF_ACT_RECORD,
	    "an alert rule fired (its record, principal system)" },
	{ "alert:list", "alert", CF_ROLE_ADMIN, SC,
	    "list the alert rules and sinks with their counts" },
	{ "alert:test", "alert", CF_ROLE_ADMIN, SC,
	    "send a test alert through a rule's sinks" },
	{ "artifact:copy", "object", CF_ROLE_WRITER, SC | NS,
	    "copy an artifact version into this namespace, server-side "
	    "(prod: only where a policy permits)" },
	{ "artifact:get", "object", CF_ROLE_READER, SC | NS,
	    "read an artifact version: its record and manifest (pull)" },
	{ "artifact:lineage", "object", CF_ROLE_READER, SC | NS,
	    "show the lineage graph of an artifact version" },
	{ "artifact:meta-set", "object", CF_ROLE_WRITER, SC | NS,
	    "change an artifact version's user metadata" },
	{ "artifact:push", "object", CF_ROLE_WRITER, SC | NS,
	    "commit an artifact version (a manifest of object versions)" },
	{ "artifact:set-sensitivity", "object", CF_ROLE_WRITER, SC | NS,
	    "raise an artifact version's sensitivity (lowering: admin with "
	    "MFA)" },
	{ "artifact:versions", "object", CF_ROLE_READER, SC | NS,
	    "list an artifact's versions and its stages with their history" },
	{ "audit:read", "audit", CF_ROLE_ADMIN, SC,
	    "read the audit log" },
	{ "audit:recover", "audit", CF_ROLE_NONE, CF_ACT_RECORD,
	    "the audit log recovered after a failed write or a crash" },
	{ "binding:create", "binding", CF_ROLE_OWNER, SC | NS,
	    "bind a role to a principal (global: admin)" },
	{ "binding:delete", "binding", CF_ROLE_OWNER, SC | NS,
	    "remove a binding (global: admin)" },
	{ "binding:expire", "binding", CF_ROLE_NONE, CF_ACT_RECORD,
	    "an expiring binding reached its expiry and was removed (its "
	    "record, principal system)" },
	{ "binding:list", "binding", CF_ROLE_OWNER, SC | NS,
	    "list bindings" },
	{ "blob:reclaim", "blob", CF_ROLE_NONE, CF_ACT_RECORD,
	    "the orphan sweep removed blobs no version references" },
	{ "breakglass:list", "breakglass", CF_ROLE_ADMIN, SC | SELF,
	    "list break-glass grants (one's own without admin)" },
	{ "breakglass:open", "namespace", CF_ROLE_ADMIN, SC | NS,
	    "take temporary owner access to a namespace in an emergency "
	    "(MFA within 5 minutes; a policy may allow it to others)" },
	{ "breakglass:revoke", "breakglass", CF_ROLE_ADMIN, SC | SELF,
	    "end a break-glass grant early (one's own without admin)" },
	{ "health", "service", CF_ROLE_NONE, CF_ACT_NOAUTH,
	    "is the service up" },
	{ "hold:list", "hold", CF_ROLE_ADMIN, SC,
	    "list legal holds" },
	{ "hold:rm", "hold", CF_ROLE_ADMIN, SC,
	    "remove a legal hold (needs MFA)" },
	{ "hold:set", "hold", CF_ROLE_ADMIN, SC,
	    "put a namespace or an object under legal hold: nothing under "
	    "it can be deleted or erased (needs MFA)" },
	{ "key:retire", "key", CF_ROLE_ADMIN, SC,
	    "destroy a KEK once nothing is wrapped under it (needs MFA)" },
	{ "key:rewrap", "key", CF_ROLE_NONE, CF_ACT_RECORD,
	    "the rewrap moved wrapped keys to the active KEK" },
	{ "key:rotate", "key", CF_ROLE_ADMIN, SC,
	    "make a new active KEK and rewrap every DEK under it (needs "
	    "MFA)" },
	{ "key:rotate-master", "key", CF_ROLE_NONE, CF_ACT_RECORD,
	    "the master key was replaced offline (coffer key "
	    "rotate-master)" },
	{ "key:status", "key", CF_ROLE_ADMIN, SC,
	    "show the key provider, KEKs and rewrap progress" },
	{ "label:rm", "label", CF_ROLE_OWNER, SC | NS,
	    "remove labels of a namespace or an object (grant rule)" },
	{ "label:set", "label", CF_ROLE_OWNER, SC | NS,
	    "set labels on a namespace or an object (grant rule)" },
	{ "metrics:read", "service", CF_ROLE_ADMIN, SC,
	    "read the server's metrics (Prometheus text)" },
	{ "mfa:confirm", "user", CF_ROLE_NONE, SC | SELF,
	    "confirm one's own MFA enrollment" },
	{ "mfa:disable", "user", CF_ROLE_NONE, SC | SELF,
	    "turn off one's own MFA (password and a code)" },
	{ "mfa:enroll", "user", CF_ROLE_NONE, SC | SELF,
	    "enroll one's own authenticator" },
	{ "ns:create", "namespace", CF_ROLE_ADMIN, SC,
	    "create a namespace" },
	{ "ns:delete", "namespace", CF_ROLE_ADMIN, SC,
	    "delete an empty namespace" },
	{ "ns:get", "namespace", CF_ROLE_READER, SC | NS,
	    "show a namespace" },
	{ "ns:list", "namespace", CF_ROLE_READER, SC | NS,
	    "list the namespaces one can read" },
	{ "ns:set-retention", "namespace", CF_ROLE_ADMIN, SC,
	    "set how many days a namespace keeps versions before they may "
	    "be deleted or erased (needs MFA)" },
	{ "ns:set-sensitivity", "namespace", CF_ROLE_ADMIN, 0,
	    "change a namespace's sensitivity" },
	{ "ns:set-versioning", "namespace", CF_ROLE_OWNER, SC | NS,
	    "set how S3 clients see a namespace's versions (S3 "
	    "PutBucketVersioning: Enabled or Suspended; no version changes)" },
	{ "object:delete", "object", CF_ROLE_WRITER, SC | NS,
	    "delete an object (a delete marker)" },
	{ "object:get", "object", CF_ROLE_READER, SC | NS,
	    "download an object version" },
	{ "object:get:end", "object", CF_ROLE_NONE, CF_ACT_RECORD,
	    "how a download ended, with the bytes sent" },
	{ "object:head", "object", CF_ROLE_READER, SC | NS,
	    "an object version's metadata" },
	{ "object:list", "object", CF_ROLE_READER, SC | NS,
	    "list the objects of a namespace" },
	{ "object:put", "object", CF_ROLE_WRITER, SC | NS,
	    "upload an object version" },
	{ "object:share", "object", CF_ROLE_READER, SC | NS | CF_ACT_SHARE,
	    "make a share link to an object version (and read it)" },
	{ "object:versions", "object", CF_ROLE_READER, SC | NS,
	    "list an object's versions" },
	{ "policy:explain", "policy", CF_ROLE_ADMIN, SC,
	    "explain how the policies would decide a request" },
	{ "policy:get", "policy", CF_ROLE_OWNER, SC | NS,
	    "list and show policy sets and their history (global: admin)" },
	{ "policy:replay", "policy", CF_ROLE_ADMIN, SC,
	    "decide recorded requests again under a draft policy set" },
	{ "policy:rm", "policy", CF_ROLE_OWNER, SC | NS,
	    "take a policy set out of force (global: admin; needs MFA)" },
	{ "policy:set", "policy", CF_ROLE_OWNER, SC | NS,
	    "store a new version of a policy set (global: admin; needs "
	    "MFA)" },
	{ "posture:read", "service", CF_ROLE_ADMIN, SC,
	    "check the deployment against best practice (coffer posture)" },
	{ "principal:create", "principal", CF_ROLE_ADMIN, SC,
	    "create a user or service account" },
	{ "principal:list", "principal", CF_ROLE_ADMIN, SC,
	    "list principals" },
	{ "privacy:erase", "object", CF_ROLE_ADMIN, SC | NS,
	    "crypto-shred object versions (and those derived from them) "
	    "with a signed certificate (needs MFA; a policy may allow it to "
	    "others)" },
	{ "privacy:key", "service", CF_ROLE_NONE, SELF,
	    "the public key that checks erasure certificates" },
	{ "privacy:purge", "object", CF_ROLE_NONE, CF_ACT_RECORD,
	    "the purge job crypto-shredded an expired non-current version "
	    "(its record, principal system)" },
	{ "privacy:report", "audit", CF_ROLE_ADMIN, SC,
	    "report personal data (pii=true): lineage, retention, holds and "
	    "who accessed it for which declared purpose" },
	{ "promotion:approve", "namespace", CF_ROLE_OWNER, SC | NS | ST,
	    "approve a promotion into a namespace (not one's own; MFA for "
	    "prod)" },
	{ "promotion:list", "namespace", CF_ROLE_READER, SC | NS | ST,
	    "list and show promotion requests (those one may see)" },
	{ "promotion:reject", "namespace", CF_ROLE_OWNER, SC | NS | ST,
	    "reject a promotion into a namespace" },
	{ "promotion:request", "object", CF_ROLE_WRITER, SC | NS,
	    "ask to promote an artifact version into a namespace of another "
	    "environment" },
	{ "promotion:withdraw", "object", CF_ROLE_WRITER, SC | NS | ST,
	    "withdraw one's own open promotion request" },
	{ "request:end", "route", CF_ROLE_NONE, CF_ACT_RECORD,
	    "a request whose answer did not reach its client" },
	{ "role:mfa-required", "role", CF_ROLE_ADMIN, SC,
	    "flag a role as needing MFA" },
	{ "s3key:create", "s3key", CF_ROLE_ADMIN, SC | SELF,
	    "create an S3 access key (for oneself or an owned service "
	    "account without admin)" },
	{ "s3key:list", "s3key", CF_ROLE_ADMIN, SC | SELF,
	    "list S3 access keys (one's own without admin)" },
	{ "s3key:revoke", "s3key", CF_ROLE_ADMIN, SC | SELF,
	    "revoke an S3 access key (one's own without admin)" },
	{ "session:login", "session", CF_ROLE_NONE, CF_ACT_NOAUTH,
	    "log in with a password (and a code)" },
	{ "session:logout", "session", CF_ROLE_NONE, SC | SELF,
	    "end one's own session" },
	{ "session:stepup", "session", CF_ROLE_NONE, SC | SELF,
	    "prove MFA on one's own session" },
	{ "share:download", "share", CF_ROLE_NONE, CF_ACT_NOAUTH,
	    "download through a share link (decided as its creator's read)" },
	{ "share:list", "share", CF_ROLE_ADMIN, SC | SELF,
	    "list share links (one's own without admin)" },
	{ "share:revoke", "share", CF_ROLE_ADMIN, SC | SELF,
	    "revoke a share link (one's own without admin)" },
	{ "store:backup", "store", CF_ROLE_ADMIN, SC,
	    "write a consistent backup of the metadata and sealed keys into "
	    "backup_dir (needs MFA)" },
	{ "token:create", "token", CF_ROLE_ADMIN, SC | SELF,
	    "mint an API token (for oneself or an owned service account "
	    "without admin)" },
	{ "token:list", "token", CF_ROLE_ADMIN, SC | SELF,
	    "list tokens (one's own without admin)" },
	{ "token:revoke", "token", CF_ROLE_ADMIN, SC | SELF,
	    "revoke a token (one's own without admin)" },
	{ "unknown", "route", CF_ROLE_NONE, CF_ACT_RECORD,
	    "a request no route matched (always denied)" },
	{ "user:attr", "user", CF_ROLE_ADMIN, SC,
	    "set or remove a user's attributes (grant rule)" },
	{ "user:create", "user", CF_ROLE_ADMIN, SC,
	    "create a local user" },
	{ "user:disable", "user", CF_ROLE_ADMIN, SC,
	    "disable or enable a user" },
	{ "user:link-oidc", "user", CF_ROLE_ADMIN, SC,
	    "bind an OIDC identity (issuer, subject) to a user" },
	{ "user:list", "user", CF_ROLE_ADMIN, SC,
	    "list users" },
	{ "user:mfa-required", "user", CF_ROLE_ADMIN, SC,
	    "flag a user as needing MFA" },
	{ "user:mfa-reset", "user", CF_ROLE_ADMIN, SC,
	    "remove another user's MFA" },
	{ "user:oidc-attrs", "user", CF_ROLE_NONE, CF_ACT_RECORD,
	    "OIDC claims changed a user's attributes at sign-in" },
	{ "user:passwd", "user", CF_ROLE_ADMIN, SC | SELF,
	    "set a password (one's own without admin)" },
	{ "user:provision", "user", CF_ROLE_NONE, CF_ACT_RECORD,
	    "OIDC created a user on first sign-in" },
	{ "user:unlink-oidc", "user", CF_ROLE_ADMIN, SC,
	    "remove an OIDC identity's binding" },
	{ "version:set-stage", "object", CF_ROLE_WRITER, SC | NS,
	    "point a stage (alias) of an artifact at one of its versions, or "
	    "remove it" },
	{ "whoami", "session", CF_ROLE_NONE, SELF,
	    "who the credential belongs to" },
};

static int
cmp_name(const void *key, const void *ent)
{
	return strcmp(key, ((const struct cf_action_def *)ent)->name);
}

const struct cf_action_def *
cf_action_find(const char *name)
{
	if (name == NULL)
		return NULL;
	return bsearch(name, registry, sizeof(registry) / sizeof(registry[0]),
	    sizeof(registry[0]), cmp_name);
}

const struct cf_action_def *
cf_actions(size_t *n)
{
	*n = sizeof(registry) / sizeof(registry[0]);
	return registry;
}

int
cf_role_rank(const char *role)
{
	static const char *const roles[] = { "reader", "writer", "owner",
	    "admin" };
	size_t	i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i]) == 0)
			return (int)i + CF_ROLE_READER;
	return CF_ROLE_NONE;
}
