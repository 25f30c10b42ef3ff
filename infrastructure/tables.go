package main

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
)

// tables are the store's DynamoDB tables, by kind ("ledger", ...).
type tables struct {
	byKind  map[string]awsdynamodb.Table
	indexes map[string][]string // index names, by kind
}

// cloudKinds are the tables the cloud deploys: every table of the
// adapter but the executions table, which only the one-machine executor
// uses (Step Functions keeps its own executions).
func cloudKinds() []string {
	return slices.DeleteFunc(dynamodb.TablesNamed("").All(), func(kind string) bool {
		return kind == dynamodb.TablesNamed("").Executions
	})
}

// newTables declares the tables exactly as the adapter defines them
// (dynamodb.TableDefinitions, dynamodb.TimeToLive): keys, indexes and
// streams from there; on-demand, point-in-time recovery, and deletion
// protection in production.
func (s *store) newTables() *tables {
	t := &tables{byKind: map[string]awsdynamodb.Table{}, indexes: map[string][]string{}}
	named := dynamodb.TablesNamed(s.prefix)
	kinds := dynamodb.TablesNamed("").All()
	ttl := dynamodb.TimeToLive(named)
	defs := map[string]*types.AttributeDefinition{}
	for _, def := range dynamodb.TableDefinitions(named) {
		kind := kinds[slices.Index(named.All(), *def.TableName)]
		if !slices.Contains(cloudKinds(), kind) {
			continue
		}
		clear(defs)
		for _, a := range def.AttributeDefinitions {
			defs[*a.AttributeName] = &a
		}
		partition, sort := keySchema(def.KeySchema, defs)
		props := &awsdynamodb.TableProps{
			TableName:    def.TableName,
			PartitionKey: partition,
			SortKey:      sort,
			BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true)},
			DeletionProtection: jsii.Bool(s.props.Production),
			RemovalPolicy:      s.removal,
			Encryption:         awsdynamodb.TableEncryption_AWS_MANAGED,
		}
		if def.StreamSpecification != nil && *def.StreamSpecification.StreamEnabled {
			props.Stream = map[types.StreamViewType]awsdynamodb.StreamViewType{
				types.StreamViewTypeNewImage:        awsdynamodb.StreamViewType_NEW_IMAGE,
				types.StreamViewTypeNewAndOldImages: awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
				types.StreamViewTypeOldImage:        awsdynamodb.StreamViewType_OLD_IMAGE,
				types.StreamViewTypeKeysOnly:        awsdynamodb.StreamViewType_KEYS_ONLY,
			}[def.StreamSpecification.StreamViewType]
		}
		if attr, ok := ttl[*def.TableName]; ok {
			props.TimeToLiveAttribute = jsii.String(attr)
		}
		table := awsdynamodb.NewTable(s.stack, jsii.String(constructID(kind)+"Table"), props)
		for _, gsi := range def.GlobalSecondaryIndexes {
			partition, sort := keySchema(gsi.KeySchema, defs)
			table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
				IndexName:    gsi.IndexName,
				PartitionKey: partition,
				SortKey:      sort,
				ProjectionType: map[types.ProjectionType]awsdynamodb.ProjectionType{
					types.ProjectionTypeAll:      awsdynamodb.ProjectionType_ALL,
					types.ProjectionTypeKeysOnly: awsdynamodb.ProjectionType_KEYS_ONLY,
				}[gsi.Projection.ProjectionType],
			})
			t.indexes[kind] = append(t.indexes[kind], *gsi.IndexName)
		}
		t.byKind[kind] = table
	}
	return t
}

func keySchema(keys []types.KeySchemaElement, defs map[string]*types.AttributeDefinition) (partition, sort *awsdynamodb.Attribute) {
	attr := func(name string) *awsdynamodb.Attribute {
		def := defs[name]
		mustf(def != nil, "key %s has no attribute definition", name)
		kind := map[types.ScalarAttributeType]awsdynamodb.AttributeType{
			types.ScalarAttributeTypeS: awsdynamodb.AttributeType_STRING,
			types.ScalarAttributeTypeN: awsdynamodb.AttributeType_NUMBER,
			types.ScalarAttributeTypeB: awsdynamodb.AttributeType_BINARY,
		}[def.AttributeType]
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: kind}
	}
	for _, k := range keys {
		switch k.KeyType {
		case types.KeyTypeHash:
			partition = attr(*k.AttributeName)
		case types.KeyTypeRange:
			sort = attr(*k.AttributeName)
		}
	}
	return partition, sort
}

// arns are a table's ARN and its indexes' (a Query of an index is
// authorized on the index).
func (t *tables) arns(kind string) []string {
	table, ok := t.byKind[kind]
	mustf(ok, "no table %q in the stack", kind)
	out := []string{*table.TableArn()}
	for _, index := range t.indexes[kind] {
		out = append(out, *table.TableArn()+"/index/"+index)
	}
	return out
}
