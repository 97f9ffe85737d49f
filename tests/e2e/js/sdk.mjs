// tests/e2e/js/sdk.mjs: the AWS SDK for JavaScript v3 against Coffer's S3
// endpoint, driven by tests/e2e/test_s3_sdkjs.py.  The SDK is used as
// applications use it (defaults: CRC32 checksums on uploads, aws-chunked
// with a trailer for streams, x-amz-checksum-mode on GetObject and the
// response checksum validated).  Each request's final headers (after
// signing) are captured; the results go to stdout as one JSON object.
//
// Environment: S3_ENDPOINT, S3_KEY, S3_SECRET, S3_BUCKET; the server's
// CA comes through NODE_EXTRA_CA_CERTS.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

import {
	CreateBucketCommand, DeleteObjectCommand, GetObjectCommand,
	HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const MiB = 1024 * 1024;
const bucket = process.env.S3_BUCKET;
const captured = [];

const s3 = new S3Client({
	endpoint: process.env.S3_ENDPOINT,
	region: "us-east-1",
	forcePathStyle: true,
	credentials: {
		accessKeyId: process.env.S3_KEY,
		secretAccessKey: process.env.S3_SECRET,
	},
	maxAttempts: 1,
});

// The request as it goes on the wire: deserialize wraps the send, after
// the build (checksums, aws-chunked) and finalize (signing) steps.
s3.middlewareStack.add((next, context) => async (args) => {
	const h = {};
	for (const [k, v] of Object.entries(args.request.headers))
		h[k.toLowerCase()] = v;
	captured.push({ op: context.commandName, method: args.request.method,
	    query: args.request.query, headers: h });
	return next(args);
}, { step: "deserialize", name: "cofferCapture", priority: "low" });

const sha256 = (b) => createHash("sha256").update(b).digest("hex");
const md5 = (b) => createHash("md5").update(b).digest("hex");

async function bytes(body) {
	return Buffer.from(await body.transformToByteArray());
}

function chunks(buf, size) {
	const out = [];
	for (let i = 0; i < buf.length; i += size)
		out.push(buf.subarray(i, i + size));
	return out;
}

async function main() {
	const out = {};
	await s3.send(new CreateBucketCommand({ Bucket: bucket }));

	// PutObject, a string body.
	const text = "hello from the AWS SDK for JavaScript v3\n";
	const ps = await s3.send(new PutObjectCommand({ Bucket: bucket,
	    Key: "js/string.txt", Body: text, ContentType: "text/plain",
	    Metadata: { origin: "sdk-js" } }));
	out.put_string = { etag: ps.ETag, version: ps.VersionId,
	    crc32: ps.ChecksumCRC32 };

	// PutObject, a stream body (aws-chunked with a trailer).
	const data = Buffer.alloc(300 * 1024 + 7);
	for (let i = 0; i < data.length; i++)
		data[i] = (i * 131 + 7) & 0xff;
	const pst = await s3.send(new PutObjectCommand({ Bucket: bucket,
	    Key: "js/stream.bin", Body: Readable.from(chunks(data, 16384)),
	    ContentLength: data.length }));
	out.put_stream = { etag: pst.ETag, crc32: pst.ChecksumCRC32,
	    md5: md5(data), sha256: sha256(data) };

	// GetObject of both: bytes, metadata and the checksum the SDK
	// validated (it throws on a mismatch).
	const gs = await s3.send(new GetObjectCommand({ Bucket: bucket,
	    Key: "js/string.txt" }));
	out.get_string = { body: (await bytes(gs.Body)).toString(),
	    content_type: gs.ContentType, metadata: gs.Metadata,
	    crc32: gs.ChecksumCRC32, etag: gs.ETag };
	const gst = await s3.send(new GetObjectCommand({ Bucket: bucket,
	    Key: "js/stream.bin" }));
	out.get_stream = { sha256: sha256(await bytes(gst.Body)),
	    crc32: gst.ChecksumCRC32, length: gst.ContentLength };
	const gr = await s3.send(new GetObjectCommand({ Bucket: bucket,
	    Key: "js/stream.bin", Range: "bytes=100-199" }));
	out.get_range = { sha256: sha256(await bytes(gr.Body)),
	    want: sha256(data.subarray(100, 200)),
	    content_range: gr.ContentRange, crc32: gr.ChecksumCRC32 ?? null };

	// HeadObject.
	const h = await s3.send(new HeadObjectCommand({ Bucket: bucket,
	    Key: "js/stream.bin" }));
	out.head = { length: h.ContentLength, etag: h.ETag };

	// Multipart through lib-storage (parts in parallel).
	const big = Buffer.alloc(12 * MiB + 5);
	for (let i = 0; i < big.length; i += 4096)
		big.writeUInt32BE(i >>> 0, i);
	const up = new Upload({ client: s3, params: { Bucket: bucket,
	    Key: "js/multi.bin", Body: Readable.from(chunks(big, MiB)) },
	    partSize: 5 * MiB, queueSize: 3 });
	const done = await up.done();
	const gm = await s3.send(new GetObjectCommand({ Bucket: bucket,
	    Key: "js/multi.bin" }));
	out.multipart = { etag: done.ETag, sha256: sha256(await bytes(gm.Body)),
	    want: sha256(big) };

	// ListObjectsV2.
	const l = await s3.send(new ListObjectsV2Command({ Bucket: bucket,
	    Prefix: "js/" }));
	out.list = (l.Contents ?? []).map((o) => [o.Key, o.Size]);

	// DeleteObject, then the key is gone.
	await s3.send(new DeleteObjectCommand({ Bucket: bucket,
	    Key: "js/string.txt" }));
	try {
		await s3.send(new GetObjectCommand({ Bucket: bucket,
		    Key: "js/string.txt" }));
		out.after_delete = "still there";
	} catch (e) {
		out.after_delete = e.name;
	}
	out.captured = captured;
	process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
	process.stderr.write(`sdk.mjs: ${e.name}: ${e.message}\n${e.stack}\n`);
	process.stdout.write(JSON.stringify({ error: e.name,
	    message: e.message, captured }) + "\n");
	process.exit(1);
});
