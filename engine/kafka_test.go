package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/config"
)

func TestSASLMechanisms(t *testing.T) {
	f := func(mechanism, wantName string) {
		t.Helper()
		m := saslMechanism(&config.KafkaSASL{Mechanism: mechanism, Username: "u", Password: "p"})
		switch {
		case wantName == "" && m != nil:
			t.Errorf("%q: got mechanism %s, want none", mechanism, m.Name())
		case wantName != "" && (m == nil || m.Name() != wantName):
			t.Errorf("%q: got %v, want %s", mechanism, m, wantName)
		}
	}
	f("", "")
	f("PLAIN", "PLAIN")
	f("SCRAM-SHA-256", "SCRAM-SHA-256")
	f("SCRAM-SHA-512", "SCRAM-SHA-512")
	f("AWS_MSK_IAM", "AWS_MSK_IAM")
}

// TestMSKIAMWithoutCredentials: with no AWS credentials anywhere the
// mechanism fails with an error that says so, instead of signing garbage.
func TestMSKIAMWithoutCredentials(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	_, err := mskIAMAuth()(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AWS_MSK_IAM") {
		t.Fatalf("want an AWS_MSK_IAM credentials error, got %v", err)
	}
}

// TestMSKIAMSignsWithEnvCredentials: credentials from the default chain
// (here the environment) are what the mechanism signs with.
func TestMSKIAMSignsWithEnvCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	a, err := mskIAMAuth()(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKey != "AKIDEXAMPLE" || a.SecretKey != "secret" {
		t.Fatalf("auth = %+v", a)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(c config.KafkaTLS, want string) {
		t.Helper()
		_, err := tlsConfig(&c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want it to contain %q", c, err, want)
		}
	}
	f(config.KafkaTLS{Enabled: true, CAFile: filepath.Join(dir, "missing.pem")}, "kafka.tls.ca_file")
	f(config.KafkaTLS{Enabled: true, CAFile: notPEM}, "holds no PEM certificate")
	f(config.KafkaTLS{Enabled: true, CertFile: notPEM, KeyFile: notPEM}, "kafka.tls.cert_file/key_file")
}
