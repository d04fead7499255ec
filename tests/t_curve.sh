# Encrypted, authenticated links (CURVE, with a ZAP allow-list): keys, a
# flow on one host, then two hosts (network namespaces joined by a veth
# pair) where peers without a key, with a wrong key or off the allow-list
# get nothing, and the wire carries no plain text.
. "$TESTS/lib.sh"

cd "$work" || exit 1
mkdir -p keys allow-b allow-a
pub_a=$(keygen --dir keys a)
keygen --dir keys b >/dev/null
keygen --dir keys c >/dev/null
check "keygen writes NAME.key (0644) and NAME.key_secret (0600)" bash -c \
	"test \"\$(stat -c %a keys/a.key)\" = 644 && test \"\$(stat -c %a keys/a.key_secret)\" = 600"
check "  ... and prints the public key that is in NAME.key" grep -qF "public-key = \"$pub_a\"" keys/a.key
check "  ... and the secret file holds the secret key" grep -q 'secret-key = "' keys/a.key_secret
fails "keygen never overwrites a key" 1 "keys/a.key_secret.*File exists.*never overwritten" "keygen --dir keys a"
fails "keygen NAME with a slash: usage error" 2 "NAME is a plain name" "keygen keys/x"
cp keys/b.key allow-b/
cp keys/a.key allow-a/
cp keys/b.key allow-a/
# the secret's first character changed: to 1 when it is 0 already (a
# random key starts with 0 once in 85 runs, and an unchanged pair listens)
fails "a secret key file that is not the pair of its public key: refused" 1 "does not belong to its public key" \
	"sed 's/secret-key = \"0/secret-key = \"1/;t;s/secret-key = \"./secret-key = \"0/' keys/a.key_secret >mixed.key_secret; chmod 600 mixed.key_secret;
	 mpcat --in '@tcp://127.0.0.1:9' --curve-key mixed.key_secret --curve-allow allow-b"
fails "an allow-list directory without certificates: refused" 1 "holds no public certificates" \
	"mkdir -p empty; mpcat --in '@tcp://127.0.0.1:9' --curve-key keys/a.key_secret --curve-allow empty"

# -- one host: the same stream with keys as over a pipe ------------------------
gen -n 20000 --seed 3 | mp2csv >pipe.csv
port=$(free_port)
mp2csv --in "@tcp://127.0.0.1:$port" --curve-key keys/a.key_secret --curve-allow allow-b >curve.csv &
reader=$!
gen -n 20000 --seed 3 --out ">tcp://127.0.0.1:$port" --curve-key keys/b.key_secret --curve-server keys/a.key
wait $reader
check "CURVE on loopback: the reader exits 0" test $? -eq 0
same "  ... and the stream arrives unchanged" pipe.csv curve.csv
port=$(free_port)
mp2csv --in "@tcp://127.0.0.1:$port" --curve-key keys/a.key_secret --curve-allow allow-b >curve2.csv &
reader=$!
gen -n 20000 --seed 3 --out ">tcp://127.0.0.1:$port" --curve-key keys/b.key_secret --curve-server "$pub_a"
wait $reader
same "--curve-server takes the Z85 key itself too" pipe.csv curve2.csv

# pyzmq (libzmq through Python, and python3-msgpack) as the CURVE client of a
# psflow server: an independent client reads the stream whole
if $PY -c 'import zmq' 2>/dev/null; then
	port=$(free_port)
	gen -n 20000 --seed 3 --out "@tcp://127.0.0.1:$port" --curve-key keys/a.key_secret \
		--curve-allow allow-b --quiet &
	writer=$!
	check "pyzmq as a CURVE client with an allowed key reads the stream, end checked" $PY -c "
import zmq, msgpack, zlib
def cert(p):
    d = {}
    for line in open(p):
        line = line.strip()
        for k in ('public-key', 'secret-key'):
            if line.startswith(k): d[k] = line.split('=', 1)[1].strip().strip('\"').encode()
    return d
me, srv = cert('keys/b.key_secret'), cert('keys/a.key')
s = zmq.Context().socket(zmq.PULL)
s.curve_secretkey, s.curve_publickey, s.curve_serverkey = me['secret-key'], me['public-key'], srv['public-key']
s.connect('tcp://127.0.0.1:$port')
crc, rows = 0, 0
while True:
    assert s.poll(10000), 'nothing arrived'
    b = s.recv(); m = msgpack.unpackb(b, raw=False)
    if m['kind'] == 'end': break
    crc = zlib.crc32(b, crc); rows += m.get('rows', 0) if m['kind'] == 'batch' else 0
assert m['rows'] == rows == 20000 and m['crc32'] == crc, (m, rows, crc)"
	wait $writer
else
	skip "pyzmq as a CURVE client" "python3-zmq is not installed"
fi

# a keyed reader that strangers reach first cannot be fed their stream
port=$(free_port)
mp2csv --in "@tcp://127.0.0.1:$port" --curve-key keys/a.key_secret --curve-allow allow-b \
	>first.csv 2>first.err &
reader=$!
sleep 0.3
gen -n 50 --seed 1 --out ">tcp://127.0.0.1:$port" --curve-key keys/c.key_secret \
	--curve-server keys/a.key --timeout 2 2>/dev/null
if $PY -c 'import zmq' 2>/dev/null; then
	gen -n 50 --seed 1 >fake.mp
	$PY -c "
import zmq, msgpack
s = zmq.Context().socket(zmq.PUSH); s.setsockopt(zmq.SNDTIMEO, 2000); s.setsockopt(zmq.IMMEDIATE, 1); s.connect('tcp://127.0.0.1:$port')
u = msgpack.Unpacker(open('fake.mp', 'rb'), raw=False)
try:
    for m in u: s.send(msgpack.packb(m, use_bin_type=True))
except zmq.Again: pass
s.close(linger=0)" 2>/dev/null
fi
gen -n 20000 --seed 3 --out ">tcp://127.0.0.1:$port" --curve-key keys/b.key_secret --curve-server keys/a.key
wait $reader
same "a keyed reader reached first by an unlisted key and a plain-text sender reads only the allowed stream" \
	pipe.csv first.csv
check "  ... and logged both refusals" bash -c \
	"grep -q 'its key is not on the allow-list' first.err && grep -q 'refused a peer whose handshake failed' first.err"

# -- two hosts -----------------------------------------------------------------
if ! two_hosts c 10.232.0; then
	skip "CURVE between two hosts (network namespaces)" "ip netns is not allowed here (needs root)"
	exit 0
fi
A="ip netns exec $ns_a" B="ip netns exec $ns_b"
key_a="--curve-key keys/a.key_secret --curve-allow allow-b"
key_b="--curve-key keys/b.key_secret --curve-server keys/a.key"

# captures what crosses the veth, as seen from host B (raw packets: the test
# can read them without tcpdump)
capture() { # OUT SECONDS
	$B $PY -c "
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(('$if_b', 0)); s.settimeout(0.2)
out, end = open(sys.argv[1], 'wb'), time.time() + float(sys.argv[2])
while time.time() < end:
    try: out.write(s.recv(65536))
    except socket.timeout: pass" "$1" "$2" &
}

# a flow split across the hosts: fitps on A, weight | report on B
study="gen -n 20000 --seed 9 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --quiet"
bash -c "$study | weight --quiet | report --json" >local.json
capture curve.pcap 6
sniffer=$!
sleep 0.5
$A bash -c "$study --out '@tcp://10.232.0.1:5555' $key_a" 2>a.err &
writer=$!
$B weight --in '>tcp://10.232.0.1:5555' $key_b --quiet --timeout 20 | report --json >split.json
wait $writer
check "a flow split across two hosts with keys: both sides exit 0" test $? -eq 0
same "  ... and gives the same report as on one host" local.json split.json
wait $sniffer
check "  ... and the captured traffic is there but holds no plain column name" $PY -c "
b = open('curve.pcap', 'rb').read()
assert len(b) > 100000, len(b)
assert b'opt_in_agent_mode' not in b and b'engagement_tier' not in b"
# the same capture of a plain-text link: the check above can fail
capture plain.pcap 5
sniffer=$!
sleep 0.5
$A bash -c "$study --out '@tcp://10.232.0.1:5556' --insecure" 2>/dev/null &
$B weight --in '>tcp://10.232.0.1:5556' --insecure --quiet --timeout 20 >/dev/null
wait $sniffer
check "  ... whereas a plain-text link (--insecure) shows the column names" \
	$PY -c "assert b'opt_in_agent_mode' in open('plain.pcap', 'rb').read()"
fails "plain text to another host without --insecure: refused" 2 "can be reached from other hosts and would carry the flow in plain text" \
	"$B weight --in '>tcp://10.232.0.1:5556'"

# peers that must get nothing: the writer on A waits for its allowed reader
$A bash -c "$study --out '@tcp://10.232.0.1:5557' $key_a" 2>refusals.err &
writer=$!
sleep 0.5
fails "a reader whose key is not on the allow-list gets nothing" 1 "no message arrived within --timeout" \
	"$B mpcat --in '>tcp://10.232.0.1:5557' --curve-key keys/c.key_secret --curve-server keys/a.key --timeout 2 >c.out"
fails "a reader with a wrong server key gets nothing" 1 "no message arrived within --timeout" \
	"$B mpcat --in '>tcp://10.232.0.1:5557' --curve-key keys/b.key_secret --curve-server keys/c.key --timeout 2 >w.out"
fails "a reader without keys gets nothing" 1 "no message arrived within --timeout" \
	"$B mpcat --in '>tcp://10.232.0.1:5557' --insecure --timeout 2 >n.out"
check "  ... (none of the three got a byte of the stream)" bash -c "test ! -s c.out && test ! -s w.out && test ! -s n.out"
if $PY -c 'import zmq' 2>/dev/null; then
	check "a plain-text pyzmq client gets nothing from a CURVE server" $B $PY -c "
import zmq
s = zmq.Context().socket(zmq.PULL); s.connect('tcp://10.232.0.1:5557')
assert not s.poll(2000), 'a plain-text client got a message'"
fi
$B mpcat --in '>tcp://10.232.0.1:5557' $key_b --timeout 20 >allowed.json
wait $writer
check "  ... while the allowed reader then gets the whole stream" bash -c \
	"tail -1 allowed.json | grep -q '\"rows\":20000'"
check "the binding side logs who was refused: the key not on the allow-list, by address and key" \
	bash -c "grep -q 'refused a peer at 10.232.0.2: its key is not on the allow-list' refusals.err &&
	grep -qF \"the refused key: \$(sed -n 's/.*public-key = \"\\(.*\\)\"/\\1/p' keys/c.key)\" refusals.err"
check "  ... and the handshakes that failed (a wrong server key, no key)" \
	grep -q "refused a peer whose handshake failed" refusals.err

# boot's workers across the hosts, with keys; one not on the list is refused
gen -n 2000 --seed 5 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --quiet \
	| weight --quiet | match --quiet >small.mp
boot -B 100 --seed 5 -j 1 --quiet <small.mp >boot-local.mp
$B boot --worker '>tcp://10.232.0.1:5558' $key_b --quiet --timeout 30 &
good=$!
$B boot --worker '>tcp://10.232.0.1:5558' --curve-key keys/c.key_secret --curve-server keys/a.key \
	--timeout 5 2>c-worker.err &
$A boot -B 100 --seed 5 -j 0 --timeout 60 --workers '@tcp://10.232.0.1:5558' $key_a <small.mp \
	>boot-remote.mp 2>coordinator.err
wait $good
same "boot's coordinator and an allowed worker on two hosts, with keys: same bytes" \
	boot-local.mp boot-remote.mp
check "  ... and a worker off the allow-list was refused by the coordinator" \
	grep -q "refused a peer at 10.232.0.2: its key is not on the allow-list" coordinator.err
wait
exit 0
