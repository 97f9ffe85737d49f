"""bench/s3/sign.py: SigV4 material for the small-GET benchmark, made by
botocore's own signer (Debian's python3-botocore), so that wrk can send
requests a real S3 client would send.

    sign.py ENDPOINT REGION AKID SECRET BUCKET KEY header|presign

header: prints the three headers of one signed GET (Authorization,
X-Amz-Date, X-Amz-Content-Sha256), one per line as NAME: VALUE; a SigV4
signature carries no nonce, so the server accepts the same request again
within its 15-minute skew window, which covers a benchmark run.
presign: prints a presigned GET URL valid for one hour."""
import sys

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    endpoint, region, akid, secret, bucket, key, mode = sys.argv[1:8]
    creds = Credentials(akid, secret)
    url = "%s/%s/%s" % (endpoint.rstrip("/"), bucket, key)
    req = AWSRequest(method="GET", url=url)
    if mode == "presign":
        S3SigV4QueryAuth(creds, "s3", region, expires=3600).add_auth(req)
        print(req.url)
        return
    req.headers["X-Amz-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(creds, "s3", region).add_auth(req)
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"):
        print("%s: %s" % (name, req.headers[name]))


if __name__ == "__main__":
    main()
