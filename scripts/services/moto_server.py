"""Runs moto's S3/STS/IAM server for Runnel's tests, with request signing enforced.

moto checks SigV4 signatures and IAM policies only when asked to (`/moto-api/reset-auth`), and
then it also demands a signature on STS AssumeRoleWithWebIdentity, which AWS accepts unsigned
(the pod has no keys yet: the call is how it gets them). This wrapper exempts exactly that
action so that the web identity flow can be tested against an enforcing server.

    python moto_server.py PORT
"""

import sys

from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import main

_check = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _check_unless_web_identity(self, iam_request_cls, resource="*"):
    if self._get_action() == "AssumeRoleWithWebIdentity":
        return
    return _check(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _check_unless_web_identity

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
