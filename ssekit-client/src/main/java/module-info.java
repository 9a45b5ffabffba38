/**
 * ssekit client: an {@code EventSource} for Java on {@code java.net.http}, parsing with ssekit's
 * one codec (module {@code dev.ssekit.codec}). See {@link dev.ssekit.client.EventSource}.
 *
 * <p>It needs the codec and {@code java.net.http} only: not the server module {@code dev.ssekit},
 * its broadcaster, nor {@code jdk.httpserver}. Both are required transitively because the API
 * shows their types ({@link dev.ssekit.codec.SseEvent}, {@link dev.ssekit.time.Scheduler}, {@link
 * java.net.http.HttpClient}).
 */
module dev.ssekit.client {
    requires transitive dev.ssekit.codec;
    requires transitive java.net.http;

    exports dev.ssekit.client;
}
