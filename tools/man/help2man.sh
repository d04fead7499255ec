#!/bin/sh
# help2man.sh VERSION NAME PROGRAM: a man page (roff, man(7) macros) for
# PROGRAM made from its --help, so that the page says what --help says:
# NAME from the first sentence after the usage, SYNOPSIS the usage lines,
# DESCRIPTION the rest of the text verbatim (no fill, so columns line up).
# The page is psflow-NAME(1), or psflow(1) for the front command.
set -eu
version=$1 name=$2 prog=$3
help=$("$prog" --help)
case $name in
psflow) page=psflow ;;
*) page=psflow-$name ;;
esac
upper=$(printf '%s' "$page" | tr '[:lower:]' '[:upper:]')
# roff escapes: a backslash is \e; a line starting with . or ' is guarded
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
# the usage block runs to the first empty line; the summary is the
# sentence after it
usage=$(printf '%s\n' "$help" | sed -n '1,/^$/p' | sed '/^$/d')
rest=$(printf '%s\n' "$help" | sed '1,/^$/d')
summary=$(printf '%s\n' "$rest" | sed '/^$/q' | tr '\n' ' ' | sed -e 's/  */ /g' \
	-e 's/^ //' -e 's/\([.:]\) .*/\1/' -e 's/[.:]$//')
printf '.TH %s 1 "" "psflow %s" "psflow manual"\n' "$upper" "$version"
printf '.SH NAME\n%s \\- %s\n' "$page" "$(printf '%s' "$summary" | esc)"
printf '.SH SYNOPSIS\n.nf\n'
printf '%s\n' "$usage" | sed -e 's/^usage: //' -e 's/^       //' | esc
printf '.fi\n.SH DESCRIPTION\n.nf\n'
printf '%s\n' "$rest" | esc
printf '.fi\n'
if [ "$name" != psflow ]; then
	printf '.PP\nInstalled, the program runs as\n.BR "psflow %s" ;\nin the build tree as bin/%s.\n' "$name" "$name"
	printf '.SH SEE ALSO\n.BR psflow (1)\n'
else
	printf '.SH SEE ALSO\n'
	printf '%s\n' "$help" | awk '/^programs:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' |
		while read -r p; do printf '.BR psflow-%s (1)\n' "$p"; done
fi
