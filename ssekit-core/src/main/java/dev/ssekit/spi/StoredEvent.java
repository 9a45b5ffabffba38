package dev.ssekit.spi;

import java.util.Objects;
import java.util.Set;

/**
 * One published event as an {@link EventLog} stores it: encoded once, the same bytes written to
 * every subscriber and replayed to reconnecting ones.
 *
 * @param sequence the log's sequence number: 1, 2, 3… without gaps within one epoch (a shared log may skip what its node never read)
 * @param id the event's id on the wire (what clients send back as {@code Last-Event-ID})
 * @param topics the topics it was published to
 * @param frame the encoded event; shared, must not be modified
 * @param nanoTime the broadcaster's {@link dev.ssekit.Ticker} reading at publish, for age limits
 * @param restricted whether only subscribers authorized for one of its topics may receive it (a
 *     Mercure "private" update)
 */
public record StoredEvent(long sequence, String id, Set<String> topics, byte[] frame, long nanoTime, boolean restricted) {

    /**
     * Creates a stored event.
     *
     * @throws NullPointerException if a component is null
     */
    public StoredEvent {
        Objects.requireNonNull(id, "id");
        topics = Set.copyOf(topics);
        Objects.requireNonNull(frame, "frame");
    }
}
