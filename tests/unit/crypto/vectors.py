"""Published known answers for Web Push encryption: RFC 8291 Appendix A and RFC 8188 §3,
base64url as the RFCs print them. Shared by the layer's tests (encrypt) and the stand-in's
(decrypt)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec

# RFC 8291 Appendix A.
RFC8291_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC8291_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC8291_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC8291_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC8291_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC8291_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC8291_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6T"
    "lzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)
# RFC 8188 §3.1 and §3.2.
RFC8188_PLAINTEXT = b"I am the walrus"
RFC8188_SINGLE_IKM = "yqdlZ-tYemfogSmv7Ws5PQ"
RFC8188_SINGLE_BODY = "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg"
RFC8188_MULTI_IKM = "BO3ZVPxUlnLORbVGMpbT1Q"
RFC8188_MULTI_BODY = (
    "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF"
    "1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA"
)


def b64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scalar_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key whose scalar `text` (base64url) is."""
    return ec.derive_private_key(int.from_bytes(b64u(text), "big"), ec.SECP256R1())
