"""Creates the IAM user and web identity role that Runnel's S3 tests sign with, then turns on
moto's signature and policy checks. Prints `ACCESS_KEY_ID SECRET_ACCESS_KEY ROLE_ARN`.

    python moto_setup.py http://127.0.0.1:PORT
"""

import json
import sys
import urllib.request

import boto3

url = sys.argv[1]
# Before the checks are on, moto accepts any key; these only satisfy boto3.
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
allow_s3 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]})
iam.create_user(UserName="runnel")
iam.put_user_policy(UserName="runnel", PolicyName="s3", PolicyDocument=allow_s3)
key = iam.create_access_key(UserName="runnel")["AccessKey"]

trust = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/runnel-test"}}]})
role = iam.create_role(RoleName="runnel-pod", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="runnel-pod", PolicyName="s3", PolicyDocument=allow_s3)
# A role without any S3 permission, for the access-denied test.
iam.create_role(RoleName="runnel-nothing", AssumeRolePolicyDocument=trust)

req = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
                             headers={"Content-Type": "text/plain"})
urllib.request.urlopen(req).read()
print(key["AccessKeyId"], key["SecretAccessKey"], role["Arn"])
