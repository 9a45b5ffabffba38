/**
 * ssekit client: an {@code EventSource} for Java on {@code java.net.http}, parsing with the core's
 * one codec. See {@link dev.ssekit.client.EventSource}.
 */
module dev.ssekit.client {
    requires transitive dev.ssekit;
    requires transitive java.net.http;

    exports dev.ssekit.client;
}
