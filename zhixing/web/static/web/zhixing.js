// Behaviour that the Content Security Policy allows only from a file: no inline handlers.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
    target.form.submit();
  }
});

// Live events. Each message of the page's event stream becomes a "zhixing-live" event on the
// body, which htmx elements can refresh on (hx-trigger="zhixing-live from:body"). A major
// event also shows an alert and plays a short tone. The browser reconnects by itself and
// sends the last event id, so the server resends what the page missed.
(() => {
  const url = document.body.dataset.eventStream;
  if (!url || !("EventSource" in window)) {
    return;
  }
  const alerts = document.getElementById("live-alerts");
  let audio = null;

  const tone = () => {
    try {
      audio = audio || new AudioContext();
      audio.resume();
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.6);
    } catch (error) {
      console.warn("Zhixing: no sound for the alert", error);
    }
  };

  const showAlert = (data) => {
    if (!alerts) {
      return;
    }
    const item = document.createElement("article");
    item.className = "live-alert";
    item.dataset.testid = "live-alert";
    const text = document.createElement(data.url ? "a" : "span");
    text.textContent = data.title || data.kind;
    if (data.url) {
      text.href = data.url;
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "secondary outline";
    close.textContent = alerts.dataset.closeLabel || "×";
    close.addEventListener("click", () => item.remove());
    item.append(text, close);
    alerts.prepend(item);
    tone();
  };

  const source = new EventSource(url);
  document.body.dataset.liveState = "connecting";
  source.addEventListener("open", () => {
    document.body.dataset.liveState = "open";
  });
  source.addEventListener("error", () => {
    document.body.dataset.liveState = "reconnecting";
  });
  source.addEventListener("message", (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      console.warn("Zhixing: unreadable live event", error);
      return;
    }
    document.body.dataset.lastEventId = message.lastEventId;
    document.body.dispatchEvent(
      new CustomEvent("zhixing-live", { detail: { id: message.lastEventId, data } }),
    );
    if (data.severity === "major") {
      showAlert(data);
    }
  });
})();
