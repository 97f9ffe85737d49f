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

# make_cert: a P-256 certificate for 127.0.0.1 in $T/tls (cert.pem,
# key.pem), for every server of one run (Coffer, nginx, radosgw).
make_cert() {
	mkdir -p "$T/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	    -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null ||
	    die "openssl could not make a certificate"
	chmod 600 "$T/tls/key.pem"
}

# start_coffer BIN DIR [SERVER ARGS...]: start `BIN server` on the data
# directory DIR (master key under DIR.xdg, log in DIR.log) on a free
# port of 127.0.0.1, with max_connections_per_ip=65536 and $T/tls's
# certificate when make_cert made one (else the server's self-signed
# one, copied to $T/tls/cert.pem); wait for it (up to 5 minutes: a
# wrapper such as valgrind, in $CF_WRAP, starts slowly) and confirm its
# bootstrap admin's MFA.  Sets CF_URL, CF_PID and CF_ADMIN.
start_coffer() {
	sc_bin=$1 sc_dir=$2
	shift 2
	CF_STARTS=$((${CF_STARTS:-0} + 1))
	sc_port=$(free_port $((40 + CF_STARTS)))
	mkdir -p "$T/tls"
	if [ -f "$T/tls/key.pem" ]; then
		set -- --set "tls_cert=$T/tls/cert.pem" \
		    --set "tls_key=$T/tls/key.pem" "$@"
	fi
	# shellcheck disable=SC2086 # CF_WRAP is a command and its words
	XDG_CONFIG_HOME="$sc_dir.xdg" ${CF_WRAP:-} "$sc_bin" server \
	    --data "$sc_dir" --listen "127.0.0.1:$sc_port" \
	    --set max_connections_per_ip=65536 "$@" >"$sc_dir.log" 2>&1 &
	CF_PID=$!
	CF_URL=https://127.0.0.1:$sc_port
	sc_i=0
	# Self-signed: the server writes its certificate at start; copied
	# again until the server answers, so a half-written one is not kept.
	until { [ -f "$T/tls/key.pem" ] ||
	    cp "$sc_dir/tls/server.crt" "$T/tls/cert.pem" 2>/dev/null; } &&
	    curl -s -o /dev/null --cacert "$T/tls/cert.pem" \
	    "$CF_URL/v1/health"; do
		sc_i=$((sc_i + 1))
		kill -0 "$CF_PID" 2>/dev/null && [ $sc_i -lt 3000 ] || {
			tail -n 30 "$sc_dir.log" >&2
			die "no server"
		}
		sleep 0.1
	done
	CF_ADMIN=$(admin_token "$CF_URL" "$sc_dir") && [ -n "$CF_ADMIN" ] ||
	    die "no admin"
}

# jfield NAME: the string member NAME of the (flat) JSON on stdin.
jfield() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }

# coffer_writer NAME BUILD [SERVER ARGS...]: start_coffer BUILD/coffer on
# $T/data-NAME (make_cert first), then the namespace "bench", a writer
# "u" on it, u's API token and S3 key.  Sets NAME_url, NAME_pid,
# NAME_token, NAME_akid, NAME_secret, and adds the pid to PIDS.
coffer_writer() {
	cw_n=$1 cw_b=$2
	shift 2
	start_coffer "$cw_b/coffer" "$T/data-$cw_n" "$@"
	PIDS="${PIDS:-} $CF_PID"
	for cw_j in '/v1/ns {"name":"bench"}' \
	    '/v1/principals {"name":"u","kind":"user"}' \
	    '/v1/bindings {"principal":"u","role":"writer","ns":"bench"}'; do
		cw_post "${cw_j%% *}" "${cw_j#* }" >/dev/null ||
		    die "setup ${cw_j%% *}"
	done
	cw_tok=$(cw_post /v1/tokens '{"principal":"u"}' | jfield token)
	cw_kj=$(cw_post /v1/s3-keys '{"principal":"u"}')
	[ -n "$cw_tok" ] && [ -n "$cw_kj" ] || die "no token or S3 key"
	eval "${cw_n}_url=\$CF_URL ${cw_n}_pid=\$CF_PID ${cw_n}_token=\$cw_tok"
	eval "${cw_n}_akid=$(echo "$cw_kj" | jfield access_key_id)"
	eval "${cw_n}_secret=$(echo "$cw_kj" | jfield secret_access_key)"
}
cw_post() {	# PATH JSON: POST as $CF_ADMIN on $CF_URL
	curl -sS --http1.1 --cacert "$T/tls/cert.pem" -f -X POST \
	    -H "Authorization: Bearer $CF_ADMIN" \
	    -H 'Content-Type: application/json' --data-binary "$2" "$CF_URL$1"
}

# coffer_small: on $CF_URL, as $CF_ADMIN, the namespace "bench" and a
# random 1 KiB object bench/small (its bytes in $T/small).
coffer_small() {
	cs_c="curl -sS --http1.1 --cacert $T/tls/cert.pem"
	cs_h="Authorization: Bearer $CF_ADMIN"
	$cs_c -f -X POST -H "$cs_h" -H 'Content-Type: application/json' \
	    --data-binary '{"name":"bench"}' "$CF_URL/v1/ns" >/dev/null ||
	    die "could not create the namespace"
	head -c 1024 /dev/urandom >"$T/small"
	$cs_c -f -H "$cs_h" -T "$T/small" \
	    "$CF_URL/v1/ns/bench/objects/small" >/dev/null ||
	    die "could not upload bench/small"
}
