package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/tickstream/tickstream/operators"
)

// SNSOptions configures an SNS publisher; zero values take the defaults noted.
type SNSOptions struct {
	TopicARN string
	// Region is empty to take it from TopicARN.
	Region string
	// Endpoint is empty for AWS, or the URL of an SNS-compatible API.
	Endpoint    string
	MaxAttempts int           // default 5
	Queue       int           // default 1024
	Backoff     time.Duration // default 500ms, doubling
	MaxBackoff  time.Duration // default 30s
	OnError     func(error)
}

// SNS publishes each alert to an Amazon SNS topic: Message is the alert JSON
// (AppendJSON), with message attributes symbol, kind and alert_id for
// subscription filter policies. Credentials come from the AWS default chain
// (environment, profile, the EC2 instance role). On a FIFO topic the alert
// ID is the MessageDeduplicationId, so SNS itself drops a retry whose first
// attempt got through; a standard topic cannot, so subscribers that must
// not see a repeat should dedupe on alert_id.
type SNS struct {
	o      SNSOptions
	client *sns.Client
	fifo   bool
	q      *queue
}

var _ Publisher = (*SNS)(nil)

// NewSNS loads the AWS config and starts the delivery goroutine; Close stops it.
func NewSNS(ctx context.Context, o SNSOptions) (*SNS, error) {
	// arn:aws:sns:REGION:ACCOUNT:NAME
	parts := strings.Split(o.TopicARN, ":")
	if len(parts) != 6 || parts[2] != "sns" {
		return nil, fmt.Errorf("alert sns: topic_arn %q is not an SNS topic ARN", o.TopicARN)
	}
	if o.Region == "" {
		o.Region = parts[3]
	}
	o.MaxAttempts = orDefault(o.MaxAttempts, 5)
	o.Queue = orDefault(o.Queue, 1024)
	o.Backoff = orDefault(o.Backoff, 500*time.Millisecond)
	o.MaxBackoff = orDefault(o.MaxBackoff, 30*time.Second)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(o.Region))
	if err != nil {
		return nil, fmt.Errorf("alert sns %s: load AWS config: %w", o.TopicARN, err)
	}
	s := &SNS{o: o, fifo: strings.HasSuffix(o.TopicARN, ".fifo")}
	s.client = sns.NewFromConfig(cfg, func(so *sns.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		// The queue retries, with the same backoff and counters as the
		// webhook; a second retry loop inside the SDK would multiply them.
		so.Retryer = retry.NewStandard(func(r *retry.StandardOptions) { r.MaxAttempts = 1 })
	})
	s.q = newQueue("sns", o.Queue, o.MaxAttempts, o.Backoff, o.MaxBackoff, s.attempt, o.OnError)
	return s, nil
}

// Publish queues the alert; a full queue drops it and counts the drop.
func (s *SNS) Publish(a *operators.Alert, partition int32, offset int64) {
	s.q.enqueue(job{id: ID(a, partition, offset), symbol: a.Symbol, kind: a.Kind.String(),
		body: AppendJSON(make([]byte, 0, 256), a, partition, offset)})
}

// Stats are the delivery counters.
func (s *SNS) Stats() *Stats { return &s.q.stats }

// Close delivers what is queued until ctx ends, then stops.
func (s *SNS) Close(ctx context.Context) error { return s.q.close(ctx) }

func (s *SNS) attempt(ctx context.Context, j job) error {
	in := &sns.PublishInput{
		TopicArn: aws.String(s.o.TopicARN),
		Message:  aws.String(string(j.body)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"alert_id": {DataType: aws.String("String"), StringValue: aws.String(j.id)},
			"kind":     {DataType: aws.String("String"), StringValue: aws.String(j.kind)},
			"symbol":   {DataType: aws.String("String"), StringValue: aws.String(j.symbol)},
		},
	}
	if s.fifo {
		in.MessageGroupId = aws.String(j.symbol) // per-symbol order
		in.MessageDeduplicationId = aws.String(j.id)
	}
	_, err := s.client.Publish(ctx, in)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("sns publish to %s: %w", s.o.TopicARN, err)
	// Throttling, 5xx and connection errors may pass next time; access
	// denied or a missing topic will not.
	return &attemptErr{err: err, retry: retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool()}
}
