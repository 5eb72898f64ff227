package config

import (
	"fmt"
	"os"
	"strings"
)

// expandEnv replaces ${NAME} and ${NAME:-default} in one scalar value with
// environment variables. Like the shell, ":-" takes the default when NAME is
// unset or empty; "$${" stands for a literal "${". fromEnv reports whether any
// part of the result came from the environment: such values may be secrets
// (passwords, URLs with keys), so callers must never print them.
//
// Only scalar values are expanded, after YAML parsing, never the raw file:
// an expansion cannot add lines or keys, so line numbers in errors stay true.
func expandEnv(s string) (out string, fromEnv bool, err error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), fromEnv, nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", false, fmt.Errorf("unterminated %q: want ${NAME} or ${NAME:-default}", s[i:])
		}
		ref := s[i : i+end+1]
		name, def, hasDef := strings.Cut(ref[2:len(ref)-1], ":-")
		if !isEnvName(name) {
			return "", false, fmt.Errorf("bad reference %q: want ${NAME} or ${NAME:-default}", ref)
		}
		v, set := os.LookupEnv(name)
		switch {
		case hasDef && v == "":
			v = def
		case !set:
			return "", false, fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
		default:
			fromEnv = true
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

// isEnvName reports whether s is a POSIX shell variable name.
func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
