package main

import "testing"

// make bench-scale's section goes before "## Method" the first time,
// replaces itself after that, and survives make bench's rewrite.
func TestScaleSection(t *testing.T) {
	doc := "# Benchmarks\n\n## Results\n\nrows\n\n## Method\n\nhow\n"
	once := withScaleSection(doc, "## At scale\n\nfirst\n")
	want := "# Benchmarks\n\n## Results\n\nrows\n\n" + scaleBegin + "## At scale\n\nfirst\n" + scaleEnd + "\n## Method\n\nhow\n"
	if once != want {
		t.Fatalf("first time:\n%s\nwant\n%s", once, want)
	}
	twice := withScaleSection(once, "## At scale\n\nsecond\n")
	if got := scaleSection(twice); got != "## At scale\n\nsecond\n" {
		t.Errorf("replaced section %q", got)
	}
	if len(twice) != len(once)+1 {
		t.Errorf("the rest of the doc changed:\n%s", twice)
	}
	// make bench writes a new report and keeps the old section.
	rewritten := withScaleSection("# Benchmarks\n\nnew rows\n\n## Method\n\nhow\n", scaleSection(twice))
	if scaleSection(rewritten) != "## At scale\n\nsecond\n" {
		t.Errorf("make bench lost the section:\n%s", rewritten)
	}
	if withScaleSection(doc, "") != doc || scaleSection(doc) != "" {
		t.Error("a doc without a section should stay as it is")
	}
	if got := withScaleSection("no method\n", "s\n"); got != "no method\n\n"+scaleBegin+"s\n"+scaleEnd {
		t.Errorf("without a Method heading: %q", got)
	}
}
