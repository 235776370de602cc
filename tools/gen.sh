#!/bin/sh
# tools/gen.sh TEMPLATE - print the header TEMPLATE describes.
#
# The public headers (ds.h, ds_hnsw.h, ds_concurrent.h) are generated from
# src/: each src/<header>.in is the header's own text (documentation, guards,
# license) with lines "@<region> <module>" where a module's code goes; this
# script replaces each such line with the lines between "/*@<region>*/" and
# "/*@end*/" in src/<module>.h. Deterministic: same inputs, same bytes.
#     sh tools/gen.sh src/ds.h.in > ds.h        (make gen does all of them)
set -eu
tpl=$1
dir=$(dirname "$tpl")
exec awk -v dir="$dir" '
/^@[a-z]+ [a-z_0-9]+$/ {
    region = substr($1, 2); file = dir "/" $2 ".h"; found = 0; on = 0
    while ((rc = (getline line < file)) > 0) {
        if (!on && line == "/*@" region "*/") { on = 1; found++; continue }
        if (on && line == "/*@end*/") { on = 0; continue }
        if (on) print line
    }
    if (rc < 0) { print "gen.sh: cannot read " file > "/dev/stderr"; exit 1 }
    close(file)
    if (found != 1 || on) { print "gen.sh: " file ": need exactly one closed region " region > "/dev/stderr"; exit 1 }
    next
}
{ print }' "$tpl"
