# man-tables.awk: let the cells of go-md2man's tables wrap, so that a table
# fits an 80-column terminal. go-md2man (v2.0.7) puts a cell in a tbl text
# block (T{ … T}) only when its first piece of text is over 30 characters,
# so that a cell starting with `code` never wraps and tbl warns "table wider
# than line width". This rewrites each table's rows with every cell of more
# than 12 characters in a text block, left-aligned (.na: a narrow block
# justified gives troff lines it "cannot adjust"); the rest of the page
# passes unchanged.
# Usage: awk -f contrib/man-tables.awk page.8 > page.8.new

function flush_cell() {
	cells[++ncells] = cell
	cell = ""
}

function emit_row(   i, out, c, plain) {
	out = ""
	for (i = 1; i <= ncells; i++) {
		c = cells[i]
		if (i > 1)
			out = out "\t"
		plain = c
		gsub(/\\f[BIRP]/, "", plain)
		if (length(plain) > 12 && c !~ /^\\fB[^\\]*\\fP$/ || c ~ /\n/)
			out = out "T{\n.na\n" c "\nT}"
		else
			out = out c
	}
	print out
	ncells = 0
}

# the table's start: the options, then the format lines up to one ending in "."
/^\.TS$/ { intable = 1; informat = 1; print; next }
intable && informat { print; if ($0 ~ /\.[ \t]*$/) informat = 0; next }
intable && /^\.TE$/ { intable = 0; print; next }

intable {
	line = $0
	if (inblock) {
		if (line !~ /^T\}/) {
			cell = (cell == "" ? line : cell "\n" line)
			next
		}
		inblock = 0
		line = substr(line, 3) # after "T}": a tab and more cells, or the row's end
		if (line == "") {
			flush_cell()
			emit_row()
			next
		}
		flush_cell()
		line = substr(line, 2) # the tab
	}
	n = split(line, parts, "\t")
	for (i = 1; i <= n; i++) {
		if (i == n && parts[i] == "T{") {
			inblock = 1
			cell = ""
			next
		}
		cell = parts[i]
		flush_cell()
	}
	emit_row()
	next
}

{ print }
