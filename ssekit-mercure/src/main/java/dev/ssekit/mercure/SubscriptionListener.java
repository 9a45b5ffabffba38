package dev.ssekit.mercure;

import java.io.IOException;
import java.util.Optional;

/**
 * Receives what a {@link Subscription} sees. Calls are made one at a time, in order, never
 * concurrently, on the subscription's callback thread (a virtual thread by default): {@code onOpen},
 * then updates, then {@code onError} when the stream breaks; again from {@code onOpen} after each
 * reconnection; and finally exactly one {@link #onClosed}. While a callback runs the stream is not
 * read (a slow listener slows the hub down instead of piling updates up). A callback may call
 * {@link Subscription#close()}; an exception it throws is logged and ignored.
 *
 * <p>Only {@link #onUpdate} must be written, so a lambda will do: {@code start(update ->
 * System.out.println(update.data()))}; by default {@link #onClosed} logs a failure as a warning.
 */
@FunctionalInterface
public interface SubscriptionListener {

    /**
     * A connection is open.
     *
     * @param resumedFrom the hub's {@code Mercure-Last-Event-ID} answer, sent when the request
     *     carried a cursor: the id of the update before the first one it sends, or {@code earliest}
     *     when it did not know the cursor (so updates may have been missed); empty when the request
     *     carried no cursor
     */
    default void onOpen(Optional<String> resumedFrom) {
    }

    /**
     * An update arrived.
     *
     * @param update the update
     */
    void onUpdate(ReceivedUpdate update);

    /**
     * A connection attempt or an open stream failed. A network failure, a stall or a 429/5xx answer
     * is followed by a reconnection, resuming after the last update received; a refusal (a {@link
     * MercureException} with status 400, 401, 403...) by {@link #onClosed}.
     *
     * @param error what failed: a {@link MercureException} when the hub answered with an error
     *     status, otherwise the client's {@code dev.ssekit.client.StreamException}
     */
    default void onError(IOException error) {
    }

    /**
     * The subscription ended for good. Called exactly once.
     *
     * @param failure empty after {@link Subscription#close()} or a 204 answer; otherwise what ended
     *     it, e.g. a {@link MercureException} whose {@link MercureException#error()} is {@code
     *     invalid_token}. By default a failure is logged (System.Logger, WARNING), never dropped
     *     silently
     */
    default void onClosed(Optional<IOException> failure) {
        failure.ifPresent(e -> System.getLogger(Subscription.class.getName()).log(System.Logger.Level.WARNING,
                "a Mercure subscription ended: " + e.getMessage(), e));
    }
}
