# bench/lib.sh: shell helpers the benchmarks share (sourced; POSIX sh).
# The caller defines die(), $T (its temp dir, with tls/cert.pem) and
# $SAMPLES (its sample dir).

# median of the numbers on stdin
median() {
	sort -g | awk '{ a[NR] = $1 }
	    END { if (NR == 0) { print "nan"; exit }
		  if (NR % 2) print a[(NR + 1) / 2];
		  else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
med() { median <"$SAMPLES/$1"; }
# min and max of a sample file, "min-max"
spread() { sort -g "$SAMPLES/$1" | awk 'NR == 1 { lo = $1 } { hi = $1 }
    END { if (NR) printf "%s-%s", lo, hi }'; }
now() { date +%s.%N; }
# fdiv A B [fmt]
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" \
    'BEGIN { if (b + 0 == 0) print "nan"; else printf f "\n", a / b }'; }

free_port() {
	p=$(( ($$ * 7 + $1) % 20000 + 20000 ))
	i=0
	while [ $i -lt 50 ]; do
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
		p=$((p + 1)); i=$((i + 1))
	done
	die "no free port"
}

# wait_https URL: bounded wait for a listener (20 s)
wait_https() {
	i=0
	while [ $i -lt 200 ]; do
		if curl -s -o /dev/null --cacert "$T/tls/cert.pem" "$1"; then
			return 0
		fi
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# admin_token URL DATA_DIR: the bootstrap credential is a session of
# admin that must enroll MFA before it may do anything else
# (docs/security.md, the grant rule): enroll, and confirm with a code
# computed here (RFC 6238); confirming replaces the session by one with
# MFA, whose token is printed.
admin_token() {
	at_curl="curl -sS --http1.1 --cacert $T/tls/cert.pem"
	at_boot=$(tr -d ' \n\r' <"$2/bootstrap-token")
	at_secret=$($at_curl -f -X POST -H "Authorization: Bearer $at_boot" \
	    "$1/v1/mfa/enroll" |
	    sed -n 's/.*"secret" *: *"\([^"]*\)".*/\1/p')
	[ -n "$at_secret" ] ||
	    die "could not enroll the bootstrap admin in MFA"
	at_code=$(/usr/bin/python3 -c '
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1].upper(); k = base64.b32decode(s + "=" * (-len(s) % 8))
m = hmac.new(k, struct.pack(">Q", int(time.time() // 30)), hashlib.sha1).digest()
o = m[-1] & 15
print("%06d" % ((struct.unpack(">I", m[o:o + 4])[0] & 0x7fffffff) % 1000000))
' "$at_secret")
	at_admin=$($at_curl -f -X POST -H "Authorization: Bearer $at_boot" \
	    -H 'Content-Type: application/json' \
	    --data-binary "{\"code\":\"$at_code\"}" "$1/v1/mfa/confirm" |
	    sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
	[ -n "$at_admin" ] ||
	    die "could not confirm the bootstrap admin's MFA"
	echo "$at_admin"
}
