import { describe, expect, it } from "vitest";

import { conversationInUrl, urlWithConversation } from "../src/location";

describe("the conversation in the address", () => {
  it("reads the conversation the address names, and none when it names none or an empty one", () => {
    expect(conversationInUrl("http://127.0.0.1:8000/?conversation=c1f2")).toBe("c1f2");
    expect(conversationInUrl("http://127.0.0.1:8000/")).toBeNull();
    expect(conversationInUrl("http://127.0.0.1:8000/?conversation=")).toBeNull();
    expect(conversationInUrl("http://127.0.0.1:8000/?conversation=%20")).toBeNull();
  });

  it("names a conversation, or none, keeping the path, other parameters and the fragment", () => {
    expect(urlWithConversation("http://h/console/?x=1#t-cite-1", "c1")).toBe(
      "http://h/console/?x=1&conversation=c1#t-cite-1",
    );
    expect(urlWithConversation("http://h/?conversation=c1", "c2")).toBe("http://h/?conversation=c2");
    expect(urlWithConversation("http://h/?conversation=c1&x=1", null)).toBe("http://h/?x=1");
    expect(urlWithConversation("http://h/?conversation=c1", null)).toBe("http://h/");
  });

  it("round-trips an id that needs escaping", () => {
    const odd = "a b&c=d/é";
    expect(conversationInUrl(urlWithConversation("http://h/", odd))).toBe(odd);
  });
});
