package main

import (
	"flag"
	"time"

	"hail"
)

// durationFlag is a flag.Value for the spans operators type, which take
// days and weeks ("30d", "2w") besides Go durations.
type durationFlag struct{ p *time.Duration }

func (d durationFlag) String() string {
	if d.p == nil {
		return ""
	}
	return d.p.String()
}

func (d durationFlag) Set(s string) error {
	v, err := hail.ParseDuration(s)
	if err != nil {
		return err
	}
	*d.p = v
	return nil
}

// spanVar defines a duration flag read by hail.ParseDuration.
func spanVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{p}, name, usage)
}

// span defines a duration flag read by hail.ParseDuration and returns
// where its value is kept.
func span(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	spanVar(fs, p, name, value, usage)
	return p
}
