package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ParseFlags parses args with fs, which must not exit on errors
// (flag.ContinueOnError). An undefined flag's error names the defined flag
// nearest to it ("flag provided but not defined: -epoch; did you mean
// -epochs?"); the usage is printed for -help only, not after every
// mistake. Both -name and --name are flags, as in package flag.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		if usage != nil {
			usage()
		} else {
			fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return err
	case err == nil:
		return nil
	}
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(err.Error(), undefined); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := Closest(name, names); s != "" {
			return fmt.Errorf("%w; did you mean -%s?", err, s)
		}
		return fmt.Errorf("%w; -help lists the flags", err)
	}
	return err
}

// Closest returns the name in known that the mistyped name most likely
// meant: the nearest by edit distance when it is at most 2 edits and
// fewer than half of name's letters away, else the only name that name
// begins or that begins with name; "" when none fits.
func Closest(name string, known []string) string {
	name = strings.TrimLeft(name, "-")
	if name == "" {
		return ""
	}
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := distance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= 2 && 2*bestD < len([]rune(name)) {
		return best
	}
	var prefix []string
	for _, k := range known {
		if strings.HasPrefix(k, name) || strings.HasPrefix(name, k) && len(k) > 2 {
			prefix = append(prefix, k)
		}
	}
	if len(prefix) == 1 {
		return prefix[0]
	}
	return ""
}

// distance is the edit (Levenshtein) distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
