package config

import (
	"os"
	"testing"
)

func TestExpandEnv(t *testing.T) {
	t.Setenv("TS_A", "alpha")
	t.Setenv("TS_EMPTY", "")
	t.Setenv("TS_UNSET", "")
	os.Unsetenv("TS_UNSET")
	f := func(in, want string, wantEnv bool, wantErr string) {
		t.Helper()
		got, env, err := expandEnv(in)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if got != want || env != wantEnv || errText != wantErr {
			t.Errorf("expandEnv(%q) = %q, %v, %q; want %q, %v, %q", in, got, env, errText, want, wantEnv, wantErr)
		}
	}
	f("plain $ and {}", "plain $ and {}", false, "")
	f("${TS_A}", "alpha", true, "")
	f("x-${TS_A}-${TS_A}-y", "x-alpha-alpha-y", true, "")
	f("${TS_EMPTY}", "", true, "")
	f("${TS_EMPTY:-d}", "d", false, "")
	f("${TS_UNSET:-d e f}", "d e f", false, "")
	f("${TS_UNSET:-}", "", false, "")
	f("${TS_A:-d}", "alpha", true, "")
	f("$${TS_A}", "${TS_A}", false, "")
	f("$$${TS_A}", "$${TS_A}", false, "")
	f("${TS_UNSET}", "", false, "environment variable TS_UNSET is not set (write ${TS_UNSET:-default} to give a default)")
	f("${TS_A", "", false, `unterminated "${TS_A": want ${NAME} or ${NAME:-default}`)
	f("${}", "", false, `bad reference "${}": want ${NAME} or ${NAME:-default}`)
	f("${9A}", "", false, `bad reference "${9A}": want ${NAME} or ${NAME:-default}`)
	f("${A-B}", "", false, `bad reference "${A-B}": want ${NAME} or ${NAME:-default}`)
}

func TestSuggest(t *testing.T) {
	known := []string{"warmup_ticks", "cooldown", "spike_factor", "overrides", "url"}
	f := func(key, want string) {
		t.Helper()
		if got := suggest(key, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
	f("overides", "overrides")
	f("Cooldown", "cooldown")
	f("spike_facter", "spike_factor")
	f("colour", "")
	f("u", "") // too short to guess from
	f("rl", "url")
	f("uri", "url")
}
