package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"hail/store"
)

// feedSetUsage is feed set's usage line.
const feedSetUsage = "hail feed set NAME [--url URL] [--taxii-collection ID] [--token KEY | --user U --password P] [--every 1h]\n" +
	"                 [--all-versions=true|false] [--insecure=true|false] [--ca FILE] [--cert FILE --key FILE] [--reset-mark]"

// feedSet changes a feed's settings: a rotated credential or certificate,
// a new address, another schedule. Its mark and runs stay, unless
// --reset-mark starts it over.
func feedSet(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "feed set", &db)
	url := fs.String("url", "", "the source's new URL")
	remote := fs.String("taxii-collection", "", "taxii21: the remote collection id or alias")
	user := fs.String("user", "", "HTTP Basic user name (drops the token)")
	password := fs.String("password", "", "HTTP Basic password (drops the token)")
	token := fs.String("token", "", "API key sent as Authorization: Bearer (drops the user and password)")
	every := span(fs, "every", 0, "time between runs, at least 1m (e.g. 15m, 6h, 1d)")
	allVersions := fs.Bool("all-versions", false, "taxii21: mirror every version (--all-versions=false: the latest only)")
	insecure := fs.Bool("insecure", false, "accept any TLS certificate (--insecure=false: verify again)")
	var tf tlsFiles
	tf.flags(fs, `; "" removes it`)
	reset := fs.Bool("reset-mark", false, "forget the mark: the next run fetches the source from the start")
	name, err := parseNamed(fs, env, args, feedSetUsage)
	if err != nil {
		return err
	}
	var u store.FeedUpdate
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		given[f.Name] = true
		switch f.Name {
		case "url":
			u.URL = url
		case "taxii-collection":
			u.TAXIICollection = remote
		case "user":
			u.User = user
		case "password":
			u.Password = password
		case "token":
			u.Token = token
		case "every":
			u.Every = every
		case "all-versions":
			u.AllVersions = allVersions
		case "insecure":
			u.Insecure = insecure
		}
	})
	u.ResetMark = *reset
	if given["token"] && (given["user"] || given["password"]) {
		return errors.New("give --token or --user/--password, not both")
	}
	if given["ca"] || given["cert"] || given["key"] {
		ca, cert, key, err := tf.read()
		if err != nil {
			return err
		}
		if given["ca"] {
			u.CA = &ca
		}
		if given["cert"] || given["key"] {
			u.ClientCert, u.ClientKey = &cert, &key
		}
	}
	if u == (store.FeedUpdate{}) {
		return errors.New("nothing to change\nusage: " + feedSetUsage)
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := st.UpdateFeed(ctx, name, u)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "feed %q: %s %s every %s, mark %s\n", f.Name, f.Kind, f.URL, f.Every, markText(f))
	return nil
}
