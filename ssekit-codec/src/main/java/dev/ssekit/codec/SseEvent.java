package dev.ssekit.codec;

import java.util.Objects;

/**
 * One event as a client receives it, after the WHATWG interpretation rules: what a browser's
 * {@code MessageEvent} carries.
 *
 * @param id the last event ID when the event was dispatched: the id of this event, or of an earlier
 *     one when this event has none; empty when no id has been seen (never null)
 * @param type the event type; {@code message} when the stream gave none or an empty one
 * @param data the data lines joined by LF; every line break the server sent reads back as LF
 */
public record SseEvent(String id, String type, String data) {

    /**
     * Creates an event.
     *
     * @throws NullPointerException if any component is null
     */
    public SseEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
    }
}
