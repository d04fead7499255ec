# make install / uninstall into a staging folder (DESTDIR): the front
# command, every program under libexec/psflow, a man page for each that
# renders and says what --help says; the installed psflow runs the study.
. "$TESTS/lib.sh"
top=$(cd "$TESTS/.." && pwd)
build=$(dirname "${MAN:?MAN must name the directory of the built man pages}")
stage="$work/stage"
programs="gen fitps weight match balance boot sensitivity report csv2mp mp2csv mpcat"

if ! make -C "$top" --no-print-directory install DESTDIR="$stage" PREFIX=/opt/psf \
    BIN="$BIN" BUILD="$build" INSTALL_ONLY=1 >"$work/install.log" 2>&1; then
	not_ok "make install DESTDIR=... PREFIX=/opt/psf" "$(tail -5 "$work/install.log")"
	exit 0
fi
ok "make install DESTDIR=... PREFIX=/opt/psf"
check "bin/psflow is the only command on PATH" test "$(ls "$stage/opt/psf/bin")" = psflow
missing=
for p in $programs; do
	[ -x "$stage/opt/psf/libexec/psflow/$p" ] || missing="$missing $p"
	[ -f "$stage/opt/psf/share/man/man1/psflow-$p.1" ] || missing="$missing psflow-$p.1"
done
[ -f "$stage/opt/psf/share/man/man1/psflow.1" ] || missing="$missing psflow.1"
check "libexec/psflow/ has every program, share/man/man1/ every page${missing:+ (missing:$missing)}" test -z "$missing"

psf="$stage/opt/psf/bin/psflow"
check "psflow --version names the version" bash -c "'$psf' --version | grep -Eq '^psflow [0-9]+\.[0-9]+\.[0-9]+$'"
check "every program's --version agrees with psflow's" bash -c "
	v=\$('$psf' --version | cut -d' ' -f2)
	for p in $programs; do '$psf' \$p --version | grep -qx \"\$p (psflow) \$v\" || exit 1; done"
fails "psflow with no program is a usage error" 2 "name a program to run" "'$psf'"
fails "psflow with an unknown program is a usage error" 2 "'nope' is not a psflow program" "'$psf' nope"
fails "psflow with an unknown option is a usage error" 2 "unknown option '--frob'" "'$psf' --frob"
mkdir -p "$work/lonely/bin" && cp "$psf" "$work/lonely/bin/psflow"
fails "psflow without its programs beside it says where it looked" 1 \
	"the program 'gen' is not installed beside psflow \\(looked in .*/lonely/bin/../libexec/psflow and .*/lonely/bin\\): reinstall psflow" \
	"'$work/lonely/bin/psflow' gen"
# the staged copy runs the study from where it lies (DESTDIR), through libexec
"$psf" gen -n 3000 --seed 8 | "$psf" fitps -x engagement_tier,query_confidence |
	"$psf" weight -e ate,att | "$psf" match | "$psf" balance | "$psf" boot -B 20 --quiet |
	"$psf" report --json >"$work/installed.json" 2>"$work/installed.err"
gen -n 3000 --seed 8 | fitps -x engagement_tier,query_confidence | weight -e ate,att |
	match | balance | boot -B 20 --quiet | report --json >"$work/built.json"
same "the installed psflow runs the study, as the built programs do" "$work/installed.json" "$work/built.json"

# each page renders, and every line of --help is in it
for p in psflow $programs; do
	page=psflow-$p
	[ "$p" = psflow ] && page=psflow
	f="$stage/opt/psf/share/man/man1/$page.1"
	if ! MANWIDTH=200 LC_ALL=C man -l "$f" 2>"$work/man.err" | col -bx >"$work/man.txt" ||
	    [ -s "$work/man.err" ]; then
		not_ok "man -l $page.1 renders" "$(head -3 "$work/man.err")"
		continue
	fi
	if [ "$p" = psflow ]; then "$psf" --help; else "$psf" "$p" --help; fi >"$work/help.txt"
	check "man -l $page.1 renders and holds every line of $p --help" $PY - "$work/help.txt" "$work/man.txt" <<'PY'
import sys
norm = lambda s: " ".join(s.split())
page = {norm(l) for l in open(sys.argv[2])}
miss = [l for l in open(sys.argv[1]) if norm(l) and norm(l) not in page
        and norm(l).replace("usage: ", "", 1) not in page]
assert not miss, miss[:3]
PY
done

make -C "$top" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/psf \
	BIN="$BIN" BUILD="$build" INSTALL_ONLY=1 >"$work/uninstall.log" 2>&1
left=$(find "$stage" -type f | sed "s|$stage||")
check "make uninstall removes every file it installed${left:+ (left: $left)}" test -z "$left"
