package lambda

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// The stream reaches a Lambda function as JSON in aws-lambda-go's shape and
// a stream reader (GetRecords) in the SDK's: the two conversions below let
// one decoder serve both, and let a reader hand its records to the same
// handler a function runs.

// SDKRecord is a Lambda stream record in the SDK's shape.
func SDKRecord(r events.DynamoDBEventRecord) (streamtypes.Record, error) {
	out := streamtypes.Record{
		AwsRegion: aws.String(r.AWSRegion), EventID: aws.String(r.EventID), EventName: streamtypes.OperationType(r.EventName),
		EventSource: aws.String(r.EventSource), EventVersion: aws.String(r.EventVersion),
		Dynamodb: &streamtypes.StreamRecord{SequenceNumber: aws.String(r.Change.SequenceNumber), SizeBytes: aws.Int64(r.Change.SizeBytes),
			StreamViewType: streamtypes.StreamViewType(r.Change.StreamViewType)},
	}
	if t := r.Change.ApproximateCreationDateTime.Time; !t.IsZero() {
		out.Dynamodb.ApproximateCreationDateTime = aws.Time(t)
	}
	var err error
	for _, img := range []struct {
		from map[string]events.DynamoDBAttributeValue
		to   *map[string]streamtypes.AttributeValue
	}{{r.Change.Keys, &out.Dynamodb.Keys}, {r.Change.NewImage, &out.Dynamodb.NewImage}, {r.Change.OldImage, &out.Dynamodb.OldImage}} {
		if *img.to, err = sdkMap(img.from); err != nil {
			return out, err
		}
	}
	return out, nil
}

func sdkMap(m map[string]events.DynamoDBAttributeValue) (map[string]streamtypes.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]streamtypes.AttributeValue, len(m))
	for k, v := range m {
		av, err := sdkValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func sdkValue(v events.DynamoDBAttributeValue) (streamtypes.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &streamtypes.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &streamtypes.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &streamtypes.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &streamtypes.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &streamtypes.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &streamtypes.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &streamtypes.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &streamtypes.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		var out []streamtypes.AttributeValue
		for _, e := range v.List() {
			av, err := sdkValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, av)
		}
		return &streamtypes.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := sdkMap(v.Map())
		if err != nil {
			return nil, err
		}
		return &streamtypes.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}

// EventRecord is an SDK stream record in the shape a Lambda function
// receives it.
func EventRecord(r streamtypes.Record) (events.DynamoDBEventRecord, error) {
	out := events.DynamoDBEventRecord{AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID),
		EventName: string(r.EventName), EventSource: aws.ToString(r.EventSource), EventVersion: aws.ToString(r.EventVersion)}
	if d := r.Dynamodb; d != nil {
		out.Change.SequenceNumber = aws.ToString(d.SequenceNumber)
		out.Change.SizeBytes = aws.ToInt64(d.SizeBytes)
		out.Change.StreamViewType = string(d.StreamViewType)
		if d.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: d.ApproximateCreationDateTime.Truncate(time.Second)}
		}
		var err error
		if out.Change.Keys, err = eventMap(d.Keys); err != nil {
			return out, err
		}
		if out.Change.NewImage, err = eventMap(d.NewImage); err != nil {
			return out, err
		}
		if out.Change.OldImage, err = eventMap(d.OldImage); err != nil {
			return out, err
		}
	}
	return out, nil
}

func eventMap(m map[string]streamtypes.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		av, err := eventValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func eventValue(v streamtypes.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberL:
		var out []events.DynamoDBAttributeValue
		for _, e := range v.Value {
			av, err := eventValue(e)
			if err != nil {
				return av, err
			}
			out = append(out, av)
		}
		return events.NewListAttribute(out), nil
	case *streamtypes.AttributeValueMemberM:
		m, err := eventMap(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unknown attribute type %T", v)
}
