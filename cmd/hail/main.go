// Command hail runs the hail threat-intelligence server and manages its store:
// collections, API keys and imports. Every subcommand works directly on the
// store named by --db (or --postgres), with or without a running server.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"hail"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hail:", message(err))
		}
		os.Exit(1)
	}
}

// message is what a user reads for err: the hail message where there is
// one, otherwise the full chain.
func message(err error) string {
	if hail.ErrorCode(err) != hail.EINTERNAL {
		return hail.ErrorMessage(err)
	}
	return err.Error()
}

const usage = `hail — a TAXII 2.1 threat-intelligence server

Usage:
  hail serve       [--db FILE | --postgres URL] [--addr HOST:PORT]
  hail collection  add|list|set|rm ...
  hail key         add|list|set|show|revoke ...
  hail plan        add|list|set|rm ...
  hail import      --collection ALIAS|ID FILE|- [FILE ...]
  hail webhook     add|set|list|show|test|pause|resume|rm ...
  hail pull        --url API_ROOT_URL --taxii-collection ID|ALIAS [--collection ALIAS]
  hail copy        --from hail.db --to postgres://USER@HOST/DB
  hail feed        add|set|list|run|runs|rm ...
  hail version

Run "hail COMMAND -h" for a command's flags. Environment variables
(HAIL_DB, HAIL_POSTGRES, HAIL_ADDR, ...) set the same options as flags.
`

// run is the whole program; main only supplies the process's environment, so
// tests can call it as users call the binary.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	env := &environ{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "serve":
		return runServe(ctx, env, args[1:])
	case "collection", "collections":
		return runCollection(ctx, env, args[1:])
	case "key", "keys":
		return runKey(ctx, env, args[1:])
	case "plan", "plans":
		return runPlan(ctx, env, args[1:])
	case "import":
		return runImport(ctx, env, args[1:])
	case "pull":
		return runPull(ctx, env, args[1:])
	case "feed", "feeds":
		return runFeed(ctx, env, args[1:])
	case "copy":
		return runCopy(ctx, env, args[1:])
	case "webhook", "webhooks":
		return runWebhook(ctx, env, args[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, "hail", hail.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// environ is what a subcommand may touch of the outside world.
type environ struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// printJSON writes v to standard output as indented JSON, the --json form of
// every listing.
func printJSON(env *environ, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
