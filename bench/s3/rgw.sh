# bench/s3/rgw.sh: a one-node Ceph cluster with radosgw, started by hand
# for bench/s3 (sourced; POSIX sh).  Debian 12's Ceph (Pacific) has no
# dbstore, so radosgw needs RADOS under it: one monitor, one OSD with the
# memstore object store (the data lives in the OSD's memory) and radosgw
# with its beast front end over TLS, on loopback, no cephx (auth none),
# pools of size 1.  About 15 s from nothing to the first S3 answer.
# ../shared/research/s3-clients.md section 6 has the recipe's background.
#
# Install (a bench dependency, not a test one; about 80 Debian packages):
#   apt-get install --no-install-recommends radosgw ceph-mon ceph-osd
#
# The caller defines die() and note() and has sourced bench/lib.sh.

RGW_APT="apt-get install --no-install-recommends radosgw ceph-mon ceph-osd"
RGW_MON_PID=
RGW_OSD_PID=
RGW_PID=

# rgw_missing: prints the first missing tool, fails when all are there
rgw_missing() {
	for rm_t in radosgw radosgw-admin ceph-mon ceph-osd ceph monmaptool \
	    ceph-authtool; do
		if ! command -v "$rm_t" >/dev/null 2>&1; then
			echo "$rm_t"
			return 0
		fi
	done
	return 1
}

# rgw_start DIR PORT CERT KEY AKID SECRET MEM_BYTES: a cluster under DIR
# (created), radosgw on https://127.0.0.1:PORT with CERT/KEY, one user
# whose S3 key is AKID/SECRET; MEM_BYTES caps what memstore may hold.
# Sets RGW_URL and the three PIDs; logs in DIR/log.
rgw_start() {
	rs_d=$1
	rs_mon_port=$(free_port 11)
	RGW_URL="https://127.0.0.1:$2"
	mkdir -p "$rs_d/run" "$rs_d/log" "$rs_d/mon" "$rs_d/osd/0" "$rs_d/rgw"
	rs_fsid=$(cat /proc/sys/kernel/random/uuid)
	# Deleted and overwritten objects' data is collected at once (the
	# default waits two hours), or memstore would keep every run's GiB.
	cat >"$rs_d/ceph.conf" <<EOF
[global]
fsid = $rs_fsid
mon host = v1:127.0.0.1:$rs_mon_port
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
osd crush chooseleaf type = 0
run dir = $rs_d/run
log file = $rs_d/log/\$name.log
admin socket = $rs_d/run/\$name.asok
keyring = $rs_d/keyring
[mon]
mon data = $rs_d/mon/\$id
[osd]
osd data = $rs_d/osd/\$id
osd objectstore = memstore
memstore device bytes = $7
[client.rgw.a]
rgw frontends = beast ssl_endpoint=127.0.0.1:$2 ssl_certificate=$3 ssl_private_key=$4
rgw data = $rs_d/rgw
rgw gc obj min wait = 0
rgw gc processor period = 10
EOF
	rs_c="-c $rs_d/ceph.conf"
	ceph-authtool --create-keyring "$rs_d/keyring" --gen-key -n mon. \
	    --cap mon 'allow *' >/dev/null || die "rgw: ceph-authtool"
	monmaptool --create --addv a "[v1:127.0.0.1:$rs_mon_port]" \
	    --fsid "$rs_fsid" "$rs_d/monmap" >/dev/null || die "rgw: monmaptool"
	ceph-mon $rs_c --mkfs -i a --monmap "$rs_d/monmap" \
	    --keyring "$rs_d/keyring" >"$rs_d/log/mon-mkfs.out" 2>&1 ||
	    die "rgw: ceph-mon --mkfs (see $rs_d/log)"
	ceph-mon $rs_c -i a -f >"$rs_d/log/mon.out" 2>&1 &
	RGW_MON_PID=$!
	rs_id=$(timeout 30 ceph $rs_c osd create 2>"$rs_d/log/osd-create.out") ||
	    die "rgw: ceph osd create (see $rs_d/log)"
	[ "$rs_id" = 0 ] || die "rgw: osd id $rs_id, expected 0"
	ceph-osd $rs_c -i 0 --mkfs >"$rs_d/log/osd-mkfs.out" 2>&1 ||
	    die "rgw: ceph-osd --mkfs (see $rs_d/log)"
	ceph-osd $rs_c -i 0 -f >"$rs_d/log/osd.out" 2>&1 &
	RGW_OSD_PID=$!
	radosgw $rs_c -n client.rgw.a -f >"$rs_d/log/rgw.out" 2>&1 &
	RGW_PID=$!
	# radosgw creates its pools, then listens (about 8 s; bounded at
	# 3 minutes for a loaded machine)
	rs_i=0
	while ! curl -s -o /dev/null --cacert "$3" "$RGW_URL/"; do
		rs_i=$((rs_i + 1))
		if [ $rs_i -ge 1800 ] || ! kill -0 "$RGW_PID" 2>/dev/null; then
			tail -n 20 "$rs_d/log/rgw.out" \
			    "$rs_d/log/client.rgw.a.log" >&2
			die "rgw: radosgw did not answer in $((rs_i / 10)) s"
		fi
		sleep 0.1
	done
	radosgw-admin $rs_c user create --uid bench --display-name bench \
	    --access-key "$5" --secret "$6" >/dev/null 2>"$rs_d/log/user.out" ||
	    die "rgw: radosgw-admin user create (see $rs_d/log)"
}

# rgw_stop: ends what rgw_start started, radosgw first
rgw_stop() {
	for rs_p in "$RGW_PID" "$RGW_OSD_PID" "$RGW_MON_PID"; do
		[ -n "$rs_p" ] || continue
		kill "$rs_p" 2>/dev/null
		wait "$rs_p" 2>/dev/null
	done
	RGW_PID= RGW_OSD_PID= RGW_MON_PID=
}

# rgw_rss: RSS in MiB of radosgw and the OSD, "RGW+OSD"
rgw_rss() {
	for rs_p in "$RGW_PID" "$RGW_OSD_PID"; do
		awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$rs_p/status" \
		    2>/dev/null || printf '?'
		[ "$rs_p" = "$RGW_OSD_PID" ] || printf '+'
	done
	echo
}
