package main

import (
	"context"
	"errors"
)

func runImport(ctx context.Context, env *environ, args []string) error {
	return errors.New("import is not available yet")
}
