/**
 * Hex digests through Web Crypto, which every host has (Node, Deno, workerd, browsers): the
 * one helper behind graph hashes, schedule verification and ETags.
 */
export async function hexDigest(
  algorithm: 'SHA-1' | 'SHA-256',
  data: Uint8Array | string,
): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
  const digest = await crypto.subtle.digest(algorithm, bytes as Uint8Array<ArrayBuffer>)
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}
