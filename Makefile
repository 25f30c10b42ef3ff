# Unicorn Store. `make run` starts the store; `make test` is what CI runs.
GO          ?= go
BIN         := bin/unicorn
# DynamoDB Local (the AWS jar) ships inside this npm package.
DDB_PACKAGE := amplify-dynamodb-simulator@2.9.30
DDB_DIR     := .cache/dynamodb-local
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
# The AWS Lambda Runtime Interface Emulator runs the real bootstraps in the tests.
RIE         := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
LAMBDA_DIR  := bin/lambda
K6          := go.k6.io/k6@v1.4.2

.PHONY: run build webapp test test-short bench overload soak k6 sim crash lint dynamodb-local asl-tools cognito-local lambda-tools lambdas synth deploy destroy fuzz screenshots clean

## run: build the store and its web app and start them on ./data/unicorn.db (http://localhost:8080)
run: build webapp
	./$(BIN) serve

## build: compile the unicorn command into bin/
build:
	$(GO) build -o $(BIN) ./cmd/unicorn

## test: everything, against real SQLite files, DynamoDB Local, the independent ASL runtime and headless Chromium, with the race detector
test: dynamodb-local asl-tools cognito-local lambda-tools webapp
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@mkdir -p .cache && $(GO) run ./tools/treecheck -untracked > .cache/tree-before
	UNICORN_REQUIRE_DYNAMODB=1 UNICORN_REQUIRE_ASL_TOOLS=1 UNICORN_REQUIRE_COGNITO=1 $(GO) test -race -count=1 -timeout 20m ./...
	cd infrastructure && $(GO) vet . && UNICORN_REQUIRE_ASL_TOOLS=1 $(GO) test -count=1 -timeout 20m .  # one package; node_modules holds the CDK command line
	cd webapp && npm test
	cd webapp && npm run e2e
	@$(GO) run ./tools/treecheck -untracked > .cache/tree-after; \
	  written="$$(comm -13 .cache/tree-before .cache/tree-after)"; \
	  if [ -n "$$written" ]; then echo "the tests wrote into the source tree (use t.TempDir()):"; echo "$$written"; exit 1; fi

## webapp: install the web app's packages and build it into webapp/dist, which serve shows at /
webapp: webapp/dist/index.html

# The API's contract is a source of the web app: its types are generated
# from it (into src/lib/api-types.ts, which the build writes, so not a source).
WEBAPP_SRC := $(shell find webapp/src webapp/public webapp/index.html webapp/vite.config.ts webapp/tsconfig.json -type f -not -name api-types.ts 2>/dev/null) adapters/httpapi/openapi.json

webapp/node_modules/.package-lock.json: webapp/package-lock.json
	@command -v npm >/dev/null || (echo "the web app needs Node.js 20 or later and npm" && exit 1)
	cd webapp && npm ci --no-audit --no-fund --loglevel=error

webapp/dist/index.html: webapp/node_modules/.package-lock.json $(WEBAPP_SRC)
	cd webapp && npm run build

## screenshots: a PNG of each page of the web app, into docs/screenshots/ (needs chromium)
screenshots: webapp
	cd webapp && npm run screenshots

## test-short: the quick tests, without DynamoDB Local or the race detector
test-short:
	$(GO) test -short -count=1 ./...

## bench: the Go benchmarks (medians), then the store under k6 beside the limit baseline; both into docs/benchmarks.md
bench: build k6
	@mkdir -p .cache
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 6 ./... | tee .cache/bench.txt
	$(GO) run ./tools/benchreport -doc docs/benchmarks.md < .cache/bench.txt
	$(GO) run ./tools/loadbench -k6 .cache/bin/k6 -unicorn $(BIN) -doc docs/benchmarks.md -chart docs/benchmarks-load.svg
	@echo "docs/benchmarks.md updated"

## overload: only the k6 overload run (rising to 3x capacity, the store's bounds as shipped); into docs/benchmarks.md
overload: build k6
	$(GO) run ./tools/loadbench -k6 .cache/bin/k6 -unicorn $(BIN) -only overload -doc docs/benchmarks.md

## soak: a steady mix for SOAK (10m); RSS, goroutines, open files and p99 must stay flat; into docs/soak.md and docs/soak.svg
SOAK ?= 10m
soak: build k6
	$(GO) run ./tools/loadbench -k6 .cache/bin/k6 -unicorn $(BIN) -soak $(SOAK) -soak-doc docs/soak.md -soak-chart docs/soak.svg

## k6: build the k6 load tester (pinned) into .cache/bin
k6: .cache/bin/k6

.cache/bin/k6:
	@mkdir -p .cache/bin
	GOBIN=$(CURDIR)/.cache/bin $(GO) install $(K6)

## lint: gofmt, go vet, staticcheck, and no binary, database or file over 1 MB in git
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go') && exit 1)
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...   # the module builds beyond Linux (no Linux-only calls outside _linux.go files)
	$(GO) run $(STATICCHECK) ./...
	$(GO) run ./tools/treecheck
	cd infrastructure && $(GO) vet .

## sim: the whole-flow simulation on more seeds (SEEDS=1000; make test runs 50); a failing seed prints how to replay it
SEEDS ?= 1000
sim:
	UNICORN_SIM_SEEDS=$(SEEDS) $(GO) test -count=1 -timeout 0 -run '^TestSimulation$$' ./cmd/unicorn/

## crash: kill the real binary with SIGKILL KILLS times (default 20; make test does 3) under mixed load (purchases, points, deposits, restocks), then check nothing acknowledged was lost
KILLS ?= 20
crash:
	UNICORN_CRASH_KILLS=$(KILLS) $(GO) test -count=1 -timeout 0 -run '^TestCrashUnderMixedLoad$$' -v ./cmd/unicorn/

## fuzz: run each fuzz target for FUZZTIME (60s); their seed corpora run in make test
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRules$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./domains/campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzFormula$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./domains/campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzRulePath$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./domains/campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzNumMatchesDecimal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./domains/campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzDecimal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./limits/
	$(GO) test -run '^$$' -fuzz '^FuzzDefinition$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./orchestration/asl/
	$(GO) test -run '^$$' -fuzz '^FuzzPath$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./orchestration/asl/
	$(GO) test -run '^$$' -fuzz '^FuzzTemplate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./orchestration/asl/
	$(GO) test -run '^$$' -fuzz '^FuzzIntrinsic$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./orchestration/asl/
	$(GO) test -run '^$$' -fuzz '^FuzzExecution$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./orchestration/executor/
	$(GO) test -run '^$$' -fuzz '^FuzzPointsBody$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./adapters/httpapi/
	$(GO) test -run '^$$' -fuzz '^FuzzRequestBodies$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./adapters/httpapi/
	$(GO) test -run '^$$' -fuzz '^FuzzNumberFields$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./adapters/httpapi/

## dynamodb-local: fetch DynamoDB Local into .cache/ (needs npm; runs on Java 17)
dynamodb-local: $(DDB_DIR)/DynamoDBLocal.jar

$(DDB_DIR)/DynamoDBLocal.jar:
	@command -v java >/dev/null || (echo "DynamoDB Local needs Java (17 or later): apt-get install -y openjdk-17-jre-headless" && exit 1)
	rm -rf .cache/ddb-download && mkdir -p .cache/ddb-download
	cd .cache/ddb-download && npm pack --silent $(DDB_PACKAGE) >/dev/null && tar -xzf *.tgz
	rm -rf $(DDB_DIR) && mv .cache/ddb-download/package/emulator $(DDB_DIR) && rm -rf .cache/ddb-download
	@test -f $@

## lambdas: the Lambda functions' bootstrap for provided.al2023 on arm64, and its zip, into bin/lambda/
lambdas:
	@mkdir -p $(LAMBDA_DIR)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(LAMBDA_DIR)/bootstrap ./cmd/lambda
	cd $(LAMBDA_DIR) && rm -f bootstrap.zip && $(GO) run ../../tools/zipfile bootstrap.zip bootstrap
	@ls -l $(LAMBDA_DIR)/bootstrap $(LAMBDA_DIR)/bootstrap.zip

## synth: the AWS deployment's CloudFormation templates into infrastructure/cdk.out (no AWS account needed; STAGE=dev)
synth: lambdas webapp infrastructure/node_modules/.package-lock.json
	cd infrastructure && npx cdk synth $(CDK_CONTEXT) --quiet

## deploy: deploy the store to the AWS account of your credentials (README, "Deploy to AWS"): STAGE=prod PRODUCTION=true
deploy: lambdas webapp infrastructure/node_modules/.package-lock.json
	cd infrastructure && npx cdk deploy $(CDK_CONTEXT) --require-approval broadening

## destroy: delete a deployed stage (a production stage keeps its tables, user pool and logs)
destroy: infrastructure/node_modules/.package-lock.json
	cd infrastructure && npx cdk destroy $(CDK_CONTEXT)

STAGE      ?= dev
PRODUCTION ?= false
CDK_CONTEXT = -c stage=$(STAGE) -c production=$(PRODUCTION) $(if $(ALARM_EMAIL),-c alarmEmail=$(ALARM_EMAIL)) $(if $(CORS_ORIGINS),-c corsOrigins=$(CORS_ORIGINS))

infrastructure/node_modules/.package-lock.json: infrastructure/package-lock.json
	cd infrastructure && npm ci --no-audit --no-fund --loglevel=error

## lambda-tools: build the Lambda Runtime Interface Emulator into .cache/bin (the cloud-shape tests run the bootstraps under it)
lambda-tools: .cache/bin/aws-lambda-rie

.cache/bin/aws-lambda-rie:
	@mkdir -p .cache/bin
	GOBIN=$(CURDIR)/.cache/bin $(GO) install $(RIE)

## cognito-local: install cognito-local (pinned), the user pools emulator the Cognito directory's tests run on
cognito-local: adapters/cognito/cognitotest/node_modules/.package-lock.json

adapters/cognito/cognitotest/node_modules/.package-lock.json: adapters/cognito/cognitotest/package-lock.json
	cd adapters/cognito/cognitotest && npm ci --no-audit --no-fund --loglevel=error

## asl-tools: install aws-local-stepfunctions and asl-validator (pinned) for the executor's conformance tests
asl-tools: orchestration/conformance/node_modules/.package-lock.json

orchestration/conformance/node_modules/.package-lock.json: orchestration/conformance/package-lock.json
	cd orchestration/conformance && npm ci --no-audit --no-fund --loglevel=error

clean:
	rm -rf bin .cache orchestration/conformance/node_modules webapp/node_modules webapp/dist infrastructure/cdk.out infrastructure/node_modules adapters/cognito/cognitotest/node_modules
