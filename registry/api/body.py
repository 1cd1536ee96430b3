"""Strict decoding of JSON request bodies.

Litestar decodes a JSON body to plain values and then converts them, together with the query
and path parameters, with msgspec's lax mode (`strict=False`), which query strings need: so
`"capacity": "5"` was accepted as the number 5. This request class decodes the body straight
into the handler's `data` type in strict mode; the later lax conversion passes an already
decoded struct through unchanged. Query and path parameters keep the lax rules.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException
from litestar.types import Empty

_AT = re.compile(r"^(?P<message>.*) - at `\$(?:\.(?P<key>.*))?`$", re.DOTALL)

TOO_DEEP = "the request body is nested too deeply"


class StrictJSONRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        field = self.route_handler.parsed_data_field
        if field is None:
            # No typed body on this route (a handler reading the raw JSON itself).
            return await super().json()
        body = await self.body()
        try:
            value = msgspec.json.decode(
                body or b"null",
                type=field.annotation,
                strict=True,
                dec_hook=self.route_handler.default_deserializer,
            )
        except msgspec.ValidationError as error:
            raise self._invalid(str(error)) from error
        except msgspec.DecodeError as error:
            # Malformed JSON: Litestar answers it with a 400 (registry/api/errors.py words it).
            raise SerializationException(str(error)) from error
        except RecursionError:
            raise ClientException(TOO_DEEP) from None
        self._json = value
        return value

    def _invalid(self, text: str) -> ValidationException:
        """The same 400 Litestar gives for a body that fails validation: `errors` with the
        field's path as `key`, which the web UI places next to the field."""
        found = _AT.match(text)
        item: dict[str, str] = {"message": found["message"] if found else text, "source": "body"}
        if found and found["key"]:
            item["key"] = found["key"]
        return ValidationException(
            detail=f"Validation failed for {self.method} {self.url.path}", extra=[item]
        )
