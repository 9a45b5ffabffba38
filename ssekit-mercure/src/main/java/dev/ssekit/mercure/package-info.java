/**
 * A Mercure 1.0 client: {@link dev.ssekit.mercure.MercureClient} publishes {@link
 * dev.ssekit.mercure.Update}s and opens {@link dev.ssekit.mercure.Subscription}s; {@link
 * dev.ssekit.mercure.TokenMinter} mints the RFC 9068 access tokens with {@link
 * dev.ssekit.mercure.Grant}s as RFC 9396 {@code authorization_details}.
 */
package dev.ssekit.mercure;
