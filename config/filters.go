package config

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/inosync/inosync/rsync/filter"
)

// filterRules reads a filters value (lsyncd's filter, rsync's include and
// exclude rules): a list of rules that each begin with "+ " (include) or
// "- " (exclude), in order, the first that matches deciding. They go to
// rsync as --exclude rules, which take those prefixes, and the watcher
// applies them through the same matcher. what names the setting in errors.
func filterRules(v starlark.Value, what string) ([]string, error) {
	items, ok := sequence(v)
	if !ok {
		return nil, fmt.Errorf(`%s must be a list of rules such as "+ /keep/***" or "- *.tmp", got %s`, what, describe(v))
	}
	rules := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s[%d] must be a string, got %s", what, i, describe(it))
		}
		r := string(s)
		if hasNUL(r) {
			return nil, fmt.Errorf("%s", nulMessage(fmt.Sprintf("%s[%d]", what, i), r))
		}
		if !strings.HasPrefix(r, "+ ") && !strings.HasPrefix(r, "- ") {
			return nil, fmt.Errorf(`%s[%d] %q must begin with "+ " (include) or "- " (exclude)`, what, i, r)
		}
		if _, err := filter.Compile([]string{r}); err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", what, i, strings.TrimPrefix(err.Error(), "filter: "))
		}
		rules = append(rules, r)
	}
	return rules, nil
}
