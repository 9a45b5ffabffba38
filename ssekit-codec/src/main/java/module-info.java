/**
 * ssekit codec: the one implementation of the event stream format that every part of ssekit shares,
 * and nothing else. It needs only {@code java.base}, so the client ({@code dev.ssekit.client})
 * depends on it without bringing the server, the broadcaster or {@code jdk.httpserver}.
 *
 * <p>Packages:
 * <ul>
 *   <li>{@code dev.ssekit.codec}: {@link dev.ssekit.codec.SseEncoder} (what a server writes, with
 *       the rules that keep one field from injecting another), {@link dev.ssekit.codec.SseParser}
 *       (the incremental WHATWG parser a client reads with) and {@link dev.ssekit.codec.SseEvent}
 *       (an event as a client receives it);
 *   <li>{@code dev.ssekit.time}: {@link dev.ssekit.time.Ticker} and {@link dev.ssekit.time.Scheduler},
 *       the injectable clock and timer, so tests advance time instead of sleeping.
 * </ul>
 *
 * <p>The message a server sends, {@code dev.ssekit.SseMessage}, is not here: the message type lives
 * with the server API in {@code dev.ssekit} (module {@code dev.ssekit}, which requires this one
 * transitively), and its wire form comes from this codec's {@link dev.ssekit.codec.SseEncoder}. A
 * package may belong to only one module, and server code imports {@code dev.ssekit.SseMessage}
 * alongside {@code dev.ssekit.Sse}; for the same reason {@code dev.ssekit.Scheduler} and {@code
 * dev.ssekit.Ticker} remain in the server module, as extensions of the types in {@code
 * dev.ssekit.time}.
 */
module dev.ssekit.codec {
    exports dev.ssekit.codec;
    exports dev.ssekit.time;
}
