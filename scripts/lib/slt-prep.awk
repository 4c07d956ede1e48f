# Prepares a copy of a sqllogictest file for the external sqllogictest runner (scripts/slt-pg).
# Every line keeps its line number, so the runner's "at FILE:LINE" points into the original.
#
#   awk -v labels=postgres,postgresql -v counts=FILE -f slt-prep.awk IN > OUT
#
# 1. On `skipif`/`onlyif` lines, a trailing `# comment` is cut (sqllogictest-rs rejects it).
# 2. A `halt` is resolved against `labels` (sqllogictest-rs applies every halt, ignoring its
#    conditions): one that applies ends the copy; one that does not becomes a comment, with
#    its condition lines.
# 3. The records that apply (statement / query whose conditions hold for `labels`) and those
#    skipped are counted (with `-v upto=N`, only those above line N); `counts` gets
#    "RUN SKIPPED".
BEGIN {
  n = split(labels, l, ",")
  for (i = 1; i <= n; i++) have[tolower(l[i])] = 1
  pending = 0; run = 0; skipped = 0; start = 1
}
function flush_pending(as_comments,   i) {
  for (i = 1; i <= pending; i++) print (as_comments ? "# " : "") held[i]
  pending = 0; skip = 0
}
{
  sub(/\r$/, "")
  line = $0
  if (start && (line ~ /^(skipif|onlyif)[ \t]/)) {
    sub(/[ \t]*#.*$/, "", line)
    split(line, w, /[ \t]+/)
    if ((w[1] == "skipif") == (tolower(w[2]) in have)) skip = 1
    held[++pending] = line
    next
  }
  if (start && line ~ /^halt[ \t]*$/) {
    if (!skip) { flush_pending(0); print line; halted = 1; exit }
    flush_pending(1); print "# " line
    next
  }
  if (start && line ~ /^(statement|query)([ \t]|$)/ && (upto == "" || NR < upto + 0)) {
    if (skip) skipped++; else run++
  }
  flush_pending(0)
  print line
  start = (line ~ /^[ \t]*$/ || line ~ /^#/ || line ~ /^(hash-threshold|control)[ \t]/)
}
END {
  flush_pending(0)
  if (counts != "") print run, skipped > counts
}
