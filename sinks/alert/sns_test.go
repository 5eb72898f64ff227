package alert

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickstream/tickstream/operators"
)

// snsServer speaks the SNS Query API's Publish action: it records each
// request's form and answers reply(n) (200 with a PublishResponse, or an
// SNS error document).
type snsServer struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
	auth  []string
}

func newSNSServer(t *testing.T, reply func(n int) int) *snsServer {
	t.Helper()
	s := &snsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		n := len(s.forms)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		switch code := reply(n); code {
		case 200:
			fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-%d</MessageId></PublishResult><ResponseMetadata><RequestId>r-%d</RequestId></ResponseMetadata></PublishResponse>`, n, n)
		default:
			errCode := map[int]string{403: "AuthorizationError", 404: "NotFound", 500: "InternalError"}[code]
			w.WriteHeader(code)
			fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>test</Message></Error><RequestId>r-%d</RequestId></ErrorResponse>`, errCode, n)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *snsServer) requests() ([]url.Values, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...), append([]string(nil), s.auth...)
}

// awsTestEnv gives the default credential chain static keys and nothing else.
func awsTestEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// attrs decodes MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}.
func attrs(form url.Values) map[string]string {
	m := map[string]string{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := form.Get(p + "Name")
		if name == "" {
			return m
		}
		m[name] = form.Get(p+"Value.DataType") + ":" + form.Get(p+"Value.StringValue")
	}
}

func TestSNSPublish(t *testing.T) {
	awsTestEnv(t)
	srv := newSNSServer(t, func(int) int { return 200 })
	const arn = "arn:aws:sns:eu-west-1:123456789012:tickstream-alerts"
	s, err := NewSNS(context.Background(), SNSOptions{TopicARN: arn, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := operators.Alert{Symbol: "BRK.B", Kind: operators.PriceDrop, Rule: "from_max", TS: 1764081067123, Observed: 412.5, Threshold: 427.5, Reference: 450}
	s.Publish(&a, 2, 500)
	closeNow(t, s)

	forms, auth := srv.requests()
	if len(forms) != 1 {
		t.Fatalf("%d requests, want 1", len(forms))
	}
	f := forms[0]
	want := map[string]string{
		"Action":   "Publish",
		"Version":  "2010-03-31",
		"TopicArn": arn,
		"Message":  `{"symbol":"BRK.B","kind":"price_drop","rule":"from_max","ts":"2025-11-25T14:31:07.123Z","observed":412.5,"threshold":427.5,"reference":450,"partition":2,"offset":500}`,
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	if f.Has("MessageDeduplicationId") || f.Has("MessageGroupId") {
		t.Errorf("standard topic got FIFO fields: %v", f)
	}
	gotAttrs := attrs(f)
	wantAttrs := map[string]string{"alert_id": "String:p2-o500-price_drop", "kind": "String:price_drop", "symbol": "String:BRK.B"}
	if fmt.Sprint(gotAttrs) != fmt.Sprint(wantAttrs) {
		t.Errorf("attributes %v, want %v", gotAttrs, wantAttrs)
	}
	// Signed with the default chain's keys, for the ARN's region.
	if !strings.HasPrefix(auth[0], "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth[0], "/eu-west-1/sns/aws4_request") {
		t.Errorf("Authorization %q", auth[0])
	}
	if d := s.Stats().Delivered.Load(); d != 1 {
		t.Errorf("delivered %d", d)
	}
}

// TestSNSRetry: a 500 is retried with the same dedup id on a FIFO topic; a
// 403 is not retried.
func TestSNSRetry(t *testing.T) {
	awsTestEnv(t)
	f := func(arn string, codes []int, wantAttempts int, wantDelivered bool) {
		t.Helper()
		srv := newSNSServer(t, func(n int) int {
			if n > len(codes) {
				return 200
			}
			return codes[n-1]
		})
		s, err := NewSNS(context.Background(), SNSOptions{TopicARN: arn, Endpoint: srv.URL, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		a := spike
		s.Publish(&a, 4, 9)
		closeNow(t, s)
		forms, _ := srv.requests()
		if len(forms) != wantAttempts {
			t.Fatalf("%s %v: %d attempts, want %d", arn, codes, len(forms), wantAttempts)
		}
		if got := s.Stats().Delivered.Load() == 1; got != wantDelivered {
			t.Errorf("%s %v: delivered %v", arn, codes, got)
		}
		fifo := strings.HasSuffix(arn, ".fifo")
		dedup := map[string]bool{}
		for _, form := range forms {
			if form.Get("Message") != forms[0].Get("Message") {
				t.Errorf("retry changed the message")
			}
			if fifo && (form.Get("MessageGroupId") != "AAPL" || form.Get("MessageDeduplicationId") != "p4-o9-volume_spike") {
				t.Errorf("FIFO fields %q %q", form.Get("MessageGroupId"), form.Get("MessageDeduplicationId"))
			}
			dedup[form.Get("MessageDeduplicationId")] = true
		}
		if fifo && len(dedup) != 1 {
			t.Errorf("FIFO dedup ids %v: SNS would deliver twice", dedup)
		}
	}
	f("arn:aws:sns:us-east-1:123456789012:alerts.fifo", []int{500, 500}, 3, true)
	f("arn:aws:sns:us-east-1:123456789012:alerts", []int{500}, 2, true)
	f("arn:aws:sns:us-east-1:123456789012:alerts", []int{403}, 1, false)
	f("arn:aws:sns:us-east-1:123456789012:alerts", []int{404}, 1, false)
}

func TestSNSBadARN(t *testing.T) {
	for _, arn := range []string{"", "arn:aws:sqs:us-east-1:123456789012:q", "topic"} {
		if _, err := NewSNS(context.Background(), SNSOptions{TopicARN: arn}); err == nil {
			t.Errorf("%q accepted", arn)
		}
	}
}
