"""SNS: the alert topic (the default destination), as before.

The message is built by ``wizwatch.notify.publish`` (JSON by default, readable text for e-mail,
``severity``/``rule_id``/``alert_type``/``log_type`` attributes for filter policies). Setting
``topic_arn`` publishes to another topic (its ARN needs an ``sns:Publish`` grant in the
notifier's role); by default it is the stack's ``ALERT_TOPIC_ARN``.

SNS errors that retrying cannot fix (Publish API reference: ``NotFound``, ``AuthorizationError``,
``InvalidParameter``, ``KMSAccessDenied``...) are rejections; throttling, internal errors and
transport failures are retried.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from wizwatch.errors import DeliveryRejected, DeliveryUnavailable
from wizwatch.notify.base import Destination, Receipt
from wizwatch.notify.publish import build_publish

RETRYABLE_CODES = {"Throttled", "ThrottlingException", "InternalError", "InternalFailure", "KMSThrottling",
                   "ServiceUnavailable", "RequestTimeout"}  # fmt: skip


class Sns(Destination):
    type_name = "sns"
    settings_types = {"topic_arn": str}

    def topic_arn(self) -> str:
        return str(self.setting("topic_arn") or self.env.alert_topic_arn)

    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        return build_publish(self.topic_arn(), alert)

    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        if not self.topic_arn().startswith("arn:"):
            raise DeliveryRejected(f"{self.name}: no topic (set topic_arn or ALERT_TOPIC_ARN)")
        if self.env.sns_client is None:
            raise DeliveryRejected(f"{self.name}: no SNS client")
        try:
            resp = self.env.sns_client().publish(**self.render(alert))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = f"SNS refused the publish to {self.topic_arn()}: {code}"
            if code in RETRYABLE_CODES:
                raise DeliveryUnavailable(message) from None
            raise DeliveryRejected(message) from None
        except BotoCoreError as exc:
            raise DeliveryUnavailable(f"SNS unreachable: {type(exc).__name__}") from None
        return Receipt(external_id=str(resp.get("MessageId", "")))
