// What both pages that join a call's LiveKit room do with it (talk.js for diners, staff_call.js for staff
// listening in): play its audio, with a button for browsers that block autoplay, and show lk.transcription as
// lines. It imports nothing: each page passes livekit-client's module (`lk`) in.

export const TOPIC_TRANSCRIPTION = "lk.transcription"; // livekit-agents' name; livekit-client defines no constant

// Play the room's remote audio in `box`. `button` is shown while the browser blocks playback: startAudio() must
// run inside a click (wired by enableAudioButton). `isCurrent()` says the room is still the page's.
export function playAudio(room, lk, { box, button, isCurrent }) {
  room.on(lk.RoomEvent.TrackSubscribed, (track) => {
    if (isCurrent() && track.kind === lk.Track.Kind.Audio) box.append(track.attach());
  });
  room.on(lk.RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()));
  room.on(lk.RoomEvent.AudioPlaybackStatusChanged, () => {
    if (isCurrent()) button.hidden = room.canPlaybackAudio;
  });
}

// A click on `button` starts the audio of the page's current room (`currentRoom()`, null when there is none).
export function enableAudioButton(button, currentRoom) {
  button.addEventListener("click", async () => {
    const room = currentRoom();
    if (!room) return;
    try {
      await room.startAudio();
    } catch (err) {
      console.warn("startAudio failed", err); // the button stays, so the page's user can try again
    }
    if (currentRoom() === room) button.hidden = room.canPlaybackAudio;
  });
}

// Show each lk.transcription stream of `room` as a line: `newLine(identity, attributes)` makes one, returning
// {el, text} (the element, and the one whose text the stream fills); `segments` maps lk.segment_id -> line;
// `box` scrolls to the end as text comes; `isCurrent()` stops a room that is no longer the page's.
// The agent streams deltas into one stream per segment, while a user's speech arrives as a new stream per
// update with the whole text so far: so each stream starts from "" and replaces its segment's line.
export function showTranscriptions(room, { segments, newLine, box, isCurrent }) {
  room.registerTextStreamHandler(TOPIC_TRANSCRIPTION, (reader, info) => {
    readSegment(reader, info.identity).catch((err) => console.warn("transcript stream", err));
  });

  async function readSegment(reader, identity) {
    if (!isCurrent()) return;
    const id = (reader.info.attributes || {})["lk.segment_id"] || reader.info.id;
    let line = segments.get(id);
    if (!line) {
      line = newLine(identity, reader.info.attributes || {});
      segments.set(id, line);
    }
    let text = "";
    line.el.classList.add("interim");
    for await (const chunk of reader) {
      if (!isCurrent()) return;
      text += chunk;
      line.text.textContent = text;
      box.scrollTop = box.scrollHeight;
    }
    // The stream's trailer may set lk.transcription_final; the client merges it into info.attributes.
    if ((reader.info.attributes || {})["lk.transcription_final"] === "true") line.el.classList.remove("interim");
  }
}
