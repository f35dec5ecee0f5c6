"""template.yaml as the one definition of the infrastructure for local runs and tests.

Usage: stack.py render OUT.json [--template PATH] [Param=Value ...]
           Transforms template.yaml with the SAM translator (as CloudFormation does, with the
           parameter values given, the others at their defaults: the translator resolves some
           itself, such as DeploymentPreference), then makes it creatable by moto's
           CloudFormation. Every change is listed in the output's Metadata.HooklineRehearsal
           (`stack.py changes OUT.json` prints them). --template: another template than
           template.yaml, such as a release's packaged one, whose code stays where it is.
       stack.py changes OUT.json
           Prints what the rendering changed: what a rehearsal on moto does not cover.
       stack.py upload-code OUT.json
           Puts the (placeholder) code object the functions point at, and OUT.json itself (for
           CreateStack's TemplateURL), on the emulator.
       stack.py deploy OUT.json STACK [Param=Value ...] [--secret BINARY=VALUE ...]
           Creates the stack on the emulator: the code object, one Secrets Manager secret per
           secret parameter, the stack, the tables' TTL from the template. A secret's value is
           the one given for the function (by binary) whose environment refers to it, else the
           template's own SecretString, else a random one. Prints JSON: outputs, secret ARNs,
           and per function its binary, name, role ARN and resolved environment
           (GetFunctionConfiguration).
       stack.py output STACK.json NAME      one output of a deploy's JSON
       stack.py env STACK.json BINARY       a function's resolved environment, NAME=value lines
       stack.py show TABLE QUEUE_URL [IDENTITIES_TABLE]
                                            what landed in the table and the queue (and the
                                            identities table)
       stack.py item TABLE KEY [NAME]       one item of the table by its partition key
                                            (consistent read), or its attribute NAME alone
       stack.py watch-bus BUS               a queue that receives every hookline event on the
                                            EventBridge bus (a rule with it as target): its URL
       stack.py bus-events QUEUE_URL        the events that queue received since the last call
       stack.py depth QUEUE_URL             the messages in a queue, visible and in flight
       stack.py enrich QUEUE_URL PORT       runs the enricher over the queue (as Lambda's SQS
                                            event source mapping would)
Endpoint and credentials come from the AWS_* environment variables.
"""
import copy
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE_BUCKET = "hookline-rehearsal"
CODE_KEY = "code.zip"
# Resource types moto's CloudFormation does not create (it "creates" them empty, and a GetAtt of
# one makes DescribeStacks fail), and the dashboard, whose GetAtt of conditional alarms it rejects.
UNSUPPORTED = {
    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route", "AWS::Lambda::Url", "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard", "AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup",
    "AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping",
}
# Managed policies SAM attaches, by name: the translator asks IAM for these ARNs unless given them.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
}


def transform(template_path, parameters=None):
    """The template as CloudFormation would see it after the SAM transform."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.yaml_helper import yaml_parse

    with open(template_path) as f:
        source = yaml_parse(f.read())
    for resource in source["Resources"].values():
        code = resource["Properties"].get("CodeUri")
        if resource["Type"] == "AWS::Serverless::Function" and not str(code).startswith("s3://"):
            # `sam build` replaces CodeUri with the built artefact; here one placeholder object.
            # A packaged template's (`sam package`: the code already on S3) is kept.
            resource["Properties"]["CodeUri"] = f"s3://{CODE_BUCKET}/{CODE_KEY}"

    class Policies:
        def load(self):
            return MANAGED_POLICIES

    return sam_transform(source, dict(parameters or {}), Policies())


def references(value):
    """Logical ids a template value refers to (Ref, GetAtt, Sub)."""
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else inner.split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {name.split(".")[0] for name in _sub_names(text)}
                if isinstance(inner, list):
                    found -= set(inner[1].keys())
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def _replace_refs(value, replacements):
    """`value` with each `{"Ref": id}` whose id `replacements` names made its replacement."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in replacements:
            return copy.deepcopy(replacements[value["Ref"]])
        return {k: _replace_refs(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_refs(v, replacements) for v in value]
    return value


def _sub_names(text):
    names, i = [], 0
    while (start := text.find("${", i)) >= 0:
        end = text.find("}", start)
        if end < 0:
            break
        if not text.startswith("${!", start):
            names.append(text[start + 2:end])
        i = end + 1
    return names


def strip_conditions(document, where, changes):
    for index, statement in enumerate(document.get("Statement", [])):
        if "Condition" in statement:
            changes.append({
                "change": "iam-condition-removed",
                "where": f"{where} statement {index}",
                "condition": statement.pop("Condition"),
                "why": "moto never matches a statement with a Condition; conditions are checked statically",
            })


def render(out_path, *args):
    args, template_path = list(args), os.path.join(ROOT, "template.yaml")
    if args[:1] == ["--template"]:
        template_path = args[1]
        del args[:2]
    template = transform(template_path, [parameter.split("=", 1) for parameter in args])
    resources = template["Resources"]
    # As declared, which is the order `sam deploy --guided` asks in (a JSON reader may sort keys).
    parameter_order = list(template.get("Parameters", {}))
    changes = [{
        "change": "lambda-code-from-s3",
        "where": [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
                  and r["Properties"]["Code"].get("S3Bucket") == CODE_BUCKET],
        "why": f"every function's code is the placeholder object s3://{CODE_BUCKET}/{CODE_KEY}; "
               "the functions are not run by the emulator",
    }]
    secret_parameters = {}
    for logical_id, resource in list(resources.items()):
        if resource["Type"] == "AWS::SecretsManager::Secret":
            properties = resource.get("Properties", {})
            del resources[logical_id]
            template.setdefault("Parameters", {})[logical_id] = {
                "Type": "String",
                "Description": f"ARN of the secret the harness created for {logical_id}",
            }
            # Every property as the template wrote it (the tests read KmsKeyId here); the
            # harness uses Description and SecretString.
            secret_parameters[logical_id] = dict(properties)
    if secret_parameters:
        changes.append({
            "change": "secret-as-parameter",
            "where": sorted(secret_parameters),
            "why": "moto's CloudFormation does not create AWS::SecretsManager::Secret; the harness "
                   "creates each through the API and passes its ARN, so every Ref gets an ARN",
        })

    aliases = {k: r["Properties"]["FunctionName"]["Ref"] for k, r in resources.items()
               if r["Type"] == "AWS::Lambda::Alias"}
    # The aliases and whatever the rewrite changed are kept as the translator wrote them, for
    # the tests that read the transformed template (tests/rollout.rs).
    dropped_aliases = {k: resources.pop(k) for k in aliases}
    as_translated = {}
    # A Ref to an alias is its ARN: its function's ARN stands in.
    function_arns = {alias: {"Fn::GetAtt": [function, "Arn"]} for alias, function in aliases.items()}
    for logical_id, resource in resources.items():
        rewritten = _replace_refs(resource, function_arns)
        if rewritten != resource:
            as_translated[logical_id] = resource
            resources[logical_id] = rewritten
    if aliases:
        changes.append({
            "change": "aliases-as-functions",
            "where": dict(sorted(aliases.items())),
            "why": "moto's CloudFormation does not create AWS::Lambda::Alias (nor CodeDeploy's "
                   "deployment groups): what invokes an alias invokes its function instead",
        })

    dropped = {k: resources[k]["Type"] for k in resources if resources[k]["Type"] in UNSUPPORTED}
    while True:  # and whatever refers to what was dropped
        more = {k: r["Type"] for k, r in resources.items()
                if k not in dropped and references(r) & set(dropped)}
        if not more:
            break
        dropped.update(more)
    # Kept whole for the tests of what only AWS enforces (tests/aws_rules.rs), which read the
    # alarms, the dashboard, the function URLs and the HTTP API as the translator wrote them.
    dropped_resources = {**dropped_aliases, **{k: resources.pop(k) for k in dropped}}
    if dropped:
        changes.append({
            "change": "resources-dropped",
            "where": dict(sorted(dropped.items())),
            "why": "moto's CloudFormation cannot create these (or they refer to such a resource)",
        })
    outputs = template.get("Outputs", {})
    # Kept too, for the tests that compare the providers' blocks (tests/provider_blocks.rs).
    dropped_outputs = {k: outputs.pop(k) for k in sorted(outputs)
                       if references(outputs[k]) & set(dropped)}
    if dropped_outputs:
        changes.append({"change": "outputs-dropped", "where": sorted(dropped_outputs),
                        "why": "they refer to a dropped resource"})

    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                strip_conditions(policy["PolicyDocument"],
                                 f"{logical_id} {policy.get('PolicyName')}", changes)
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            strip_conditions(resource["Properties"]["PolicyDocument"], logical_id, changes)

    mappings = sorted(k for k, r in resources.items() if r["Type"] == "AWS::Lambda::EventSourceMapping")
    for k in mappings:
        resources[k]["Properties"]["Enabled"] = False
    if mappings:
        changes.append({"change": "event-source-mappings-disabled", "where": mappings,
                        "why": "an enabled mapping makes moto take each message off the queue to invoke "
                               "the placeholder code; the harness plays the event source mapping itself"})

    archives = sorted(k for k, r in resources.items() if r["Type"] == "AWS::Events::Archive")
    for k in archives:
        as_translated.setdefault(k, copy.deepcopy(resources[k]))
        properties = resources[k]["Properties"]
        if isinstance(properties.get("EventPattern"), dict):
            properties["EventPattern"] = json.dumps(properties["EventPattern"])
        properties.setdefault("ArchiveName", {"Fn::Sub": "${AWS::StackName}-changes"})
        name = properties["ArchiveName"]
        for logical_id, resource in resources.items():
            resources[logical_id] = _replace_refs(resource, {k: name})
        template["Outputs"] = _replace_refs(template.get("Outputs", {}), {k: name})
    if archives:
        changes.append({"change": "archive-pattern-as-text-and-named", "where": archives,
                        "why": "moto's CloudFormation reads an archive's EventPattern as JSON text, "
                               "the name it would generate is longer than the 48 characters it "
                               "allows, and its Ref is not the name: the archive is named here and "
                               "each Ref is that name (CloudFormation takes the object, generates "
                               "a name that fits and gives it as the Ref)"})

    ttl = {k: r["Properties"]["TimeToLiveSpecification"] for k, r in resources.items()
           if r["Type"] == "AWS::DynamoDB::Table" and "TimeToLiveSpecification" in r["Properties"]}
    if ttl:
        changes.append({"change": "ttl-applied-after-creation", "where": sorted(ttl),
                        "why": "moto's CloudFormation ignores TimeToLiveSpecification; the harness "
                               "applies the template's own with UpdateTimeToLive"})

    functions = {k: {"binary": r.get("Metadata", {}).get("BuildProperties", {}).get("Binary"),
                     "role": _role_of(r)}
                 for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    template.setdefault("Metadata", {})["HooklineRehearsal"] = {
        "Changes": changes,
        "Secrets": secret_parameters,
        "TimeToLive": ttl,
        "Code": {"Bucket": CODE_BUCKET, "Key": CODE_KEY, "TemplateKey": "template.json",
                 "TemplateURL": f"https://{CODE_BUCKET}.s3.amazonaws.com/template.json"},
        "Functions": functions,
        "DroppedResources": dropped_resources,
        "AsTranslated": as_translated,
        "DroppedOutputs": dropped_outputs,
        "ParameterOrder": parameter_order,
    }
    with open(out_path, "w") as f:
        json.dump(template, f, indent=1)


def _role_of(function):
    role = function["Properties"].get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return role["Fn::GetAtt"][0]
    return None


def changes(path):
    with open(path) as f:
        rehearsal = json.load(f)["Metadata"]["HooklineRehearsal"]
    print("Rendered for moto's CloudFormation; not rehearsed as deployed:")
    for change in rehearsal["Changes"]:
        print(f"  {change['change']}: {json.dumps(change['where'])}")
        print(f"      {change['why']}")


def _clients():
    import boto3
    return boto3


def upload_code(path):
    boto3 = _clients()
    with open(path) as f:
        code = json.load(f)["Metadata"]["HooklineRehearsal"]["Code"]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=code["Bucket"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\necho 'placeholder: functions run under cargo lambda watch'\n")
    s3.put_object(Bucket=code["Bucket"], Key=code["Key"], Body=archive.getvalue())
    # The rendered template itself, for CreateStack's TemplateURL: moto with IAM enforcement
    # re-encodes a form body before checking its signature, which fails for a long TemplateBody
    # sent by the Rust SDK (its encoding differs from botocore's).
    with open(path, "rb") as f:
        s3.put_object(Bucket=code["Bucket"], Key=code["TemplateKey"], Body=f.read())


def deploy(path, stack, *args):
    boto3 = _clients()
    with open(path) as f:
        template = json.load(f)
    rehearsal = template["Metadata"]["HooklineRehearsal"]
    values, parameters = {}, {}
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg == "--secret":
            binary, _, value = args.pop(0).partition("=")
            values[secret_of(template, binary)] = value
        else:
            name, _, value = arg.partition("=")
            parameters[name] = value
    upload_code(path)
    secrets_manager = boto3.client("secretsmanager")
    arns = {}
    for logical_id, secret in rehearsal["Secrets"].items():
        value = values.get(logical_id, secret.get("SecretString", secrets.token_hex(24)))
        arns[logical_id] = secrets_manager.create_secret(
            Name=f"{stack}-{logical_id}", Description=secret.get("Description", ""),
            SecretString=value)["ARN"]
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack, TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v}
                    for k, v in {**parameters, **arns}.items()])
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    if described["StackStatus"] != "CREATE_COMPLETE":
        sys.exit(f"stack {stack}: {described['StackStatus']} {described.get('StackStatusReason', '')}")
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]}
    dynamodb = boto3.client("dynamodb")
    for logical_id, spec in rehearsal["TimeToLive"].items():
        dynamodb.update_time_to_live(
            TableName=physical[logical_id],
            TimeToLiveSpecification={"AttributeName": spec["AttributeName"],
                                     "Enabled": bool(spec["Enabled"])})
    lambda_ = boto3.client("lambda")
    account = boto3.client("sts").get_caller_identity()["Account"]
    functions = {}
    for logical_id, function in rehearsal["Functions"].items():
        if logical_id not in physical:
            continue
        try:
            configuration = lambda_.get_function_configuration(FunctionName=physical[logical_id])
        except lambda_.exceptions.ClientError as error:
            # moto with IAM enforcement rejects the signature of every Lambda API call: there,
            # the name and role come from the stack, the environment is not known.
            if "SignatureDoesNotMatch" not in str(error):
                raise
            functions[logical_id] = {
                "binary": function["binary"], "name": physical[logical_id],
                "role_arn": f"arn:aws:iam::{account}:role/{physical[function['role']]}",
                "environment": None,
                "environment_unavailable": "the emulator refused GetFunctionConfiguration",
            }
            continue
        functions[logical_id] = {
            "binary": function["binary"],
            "name": configuration["FunctionName"],
            "role_arn": configuration["Role"],
            "environment": configuration.get("Environment", {}).get("Variables", {}),
        }
    print(json.dumps({
        "stack": stack,
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        "secrets": arns,
        "functions": functions,
        "roles": {f["binary"]: f["role_arn"] for f in functions.values()},
    }, indent=1))


def secret_of(template, binary):
    """The secret parameter the environment of the function running `binary` refers to."""
    rehearsal = template["Metadata"]["HooklineRehearsal"]
    for logical_id, function in rehearsal["Functions"].items():
        if function["binary"] != binary:
            continue
        variables = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        found = [v["Ref"] for v in variables.values()
                 if isinstance(v, dict) and v.get("Ref") in rehearsal["Secrets"]]
        if len(found) == 1:
            return found[0]
        sys.exit(f"function {binary} refers to {len(found)} secrets, not one: {found}")
    sys.exit(f"no function runs binary {binary}")


def output(path, name):
    with open(path) as f:
        print(json.load(f)["outputs"][name])


def env(path, binary):
    with open(path) as f:
        functions = json.load(f)["functions"]
    [function] = [f for f in functions.values() if f["binary"] == binary]
    for name, value in function["environment"].items():
        print(f"{name}={value}")


def table_definition(template_path=os.path.join(ROOT, "template.yaml"), logical_id="EventsTable"):
    """The CreateTable arguments and TTL of a table of the transformed template, for scripts that
    make a table of their own name (the load and latency tests); none of it written here."""
    properties = copy.deepcopy(transform(template_path)["Resources"][logical_id]["Properties"])
    create = {k: properties[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
                                         "BillingMode") if k in properties}
    # An index's warm throughput is a deploy-time choice (Fn::If on EventsTableWarmWriteUnits);
    # a local table takes the emulator's default.
    for index in create.get("GlobalSecondaryIndexes", []):
        index.pop("WarmThroughput", None)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        ttl = {"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])}
    return create, ttl


def _plain(item):
    """A DynamoDB item as name -> value (the values' type tags dropped)."""
    return {k: next(iter(v.values())) for k, v in item.items()}


def _describe(plain, names=("status", "event_type", "expires_at", "source_updated_at"), key="pk"):
    details = {k: plain[k] for k in names if k in plain}
    if "data" in plain:
        details["data"] = plain["data"][:60] + ("..." if len(plain["data"]) > 60 else "")
    return f"{plain[key]}: " + " ".join(f"{k}={v}" for k, v in details.items())


IDENTITY_ATTRIBUTES = ("state", "revision", "event_id", "fetched_at", "expires_at")


def _partition_key(dynamodb, table):
    schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")


def item(table, key, name=None):
    """One item of the table, read consistently: its description, or attribute NAME alone."""
    dynamodb = _clients().client("dynamodb")
    key_name = _partition_key(dynamodb, table)
    found = dynamodb.get_item(TableName=table, Key={key_name: {"S": key}},
                              ConsistentRead=True).get("Item")
    if not found:
        sys.exit(f"no item {key} in table {table}")
    plain = _plain(found)
    if name is None:
        names = IDENTITY_ATTRIBUTES if key_name == "resource_key" else \
            ("status", "event_type", "source_updated_at")
        print(_describe(plain, names, key_name))
    elif name in plain:
        print(plain[name])
    else:
        sys.exit(f"item {pk} has no attribute {name}")


def show(table, queue_url, identities_table=None):
    boto3 = _clients()
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    print(f"\n{len(items)} item(s) in table {table}:")
    for item in sorted(items, key=lambda i: i["pk"]["S"]):
        print("  " + _describe(_plain(item)))
    if identities_table:
        items = boto3.client("dynamodb").scan(TableName=identities_table)["Items"]
        print(f"\n{len(items)} identit{'y' if len(items) == 1 else 'ies'} in table {identities_table}:")
        for item in sorted(items, key=lambda i: i["resource_key"]["S"]):
            print("  " + _describe(_plain(item), IDENTITY_ATTRIBUTES, "resource_key"))
    sqs = boto3.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                    VisibilityTimeout=60, MessageAttributeNames=["All"])
        if not batch.get("Messages"):
            break
        messages += batch["Messages"]
    print(f"\n{len(messages)} message(s) in queue {queue_url}:")
    for m in messages:
        envelope = json.loads(m["Body"])
        summary = {k: v for k, v in envelope.items() if k != "payload"}
        print("  " + json.dumps(summary))
        # Shown, not consumed: visible again for the enricher.
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"],
                                      VisibilityTimeout=0)


def depth(queue_url):
    attributes = _clients().client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages",
                                            "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    print(int(attributes["ApproximateNumberOfMessages"])
          + int(attributes["ApproximateNumberOfMessagesNotVisible"]))


def watch_bus(bus):
    """A queue that every hookline event on `bus` is delivered to, by a rule: prints its URL."""
    boto3 = _clients()
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName=f"{bus}-watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"{bus}-watch", EventBusName=bus,
                    EventPattern=json.dumps({"source": ["hookline"]}))
    events.put_targets(Rule=f"{bus}-watch", EventBusName=bus, Targets=[{"Id": "watch", "Arn": arn}])
    print(url)


def bus_events(queue_url):
    """Prints (and consumes) the events the watch queue received, a line each."""
    sqs = _clients().client("sqs")
    received = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not batch.get("Messages"):
            break
        for m in batch["Messages"]:
            received.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    print(f"  {len(received)} change event(s) on the bus:")
    for event in received:
        detail = event["detail"]
        print(f"    {event['detail-type']:<28} {detail['resource_id']}  revision {detail['revision']}"
              f"  changed: {', '.join(detail['changed_fields']) or '-'}")


def enrich(queue_url, port):
    """Does what Lambda's SQS event source mapping does: receive a batch, invoke the enricher
    with it, delete what succeeded."""
    boto3 = _clients()
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if not batch.get("Messages"):
            return
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}
                   for m in batch["Messages"]]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as event:
            json.dump({"Records": records}, event)
            event.flush()
            out = subprocess.run(["cargo-lambda", "lambda", "invoke", "-A", "127.0.0.1", "-P", port,
                                  "enricher", "--data-file", event.name, "--output-format", "json"],
                                 capture_output=True, text=True, check=True)
        failed = {f["itemIdentifier"] for f in json.loads(out.stdout)["batchItemFailures"]}
        for m in batch["Messages"]:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        print(f"  enricher: batch of {len(records)}, {len(failed)} failed")
        if failed:
            sys.exit(f"the enricher reported {len(failed)} failed message(s)")


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"render": render, "changes": changes, "upload-code": upload_code, "deploy": deploy,
     "output": output, "env": env, "show": show, "item": item, "watch-bus": watch_bus,
     "bus-events": bus_events, "depth": depth, "enrich": enrich}[command](*rest)
