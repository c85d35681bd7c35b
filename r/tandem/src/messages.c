/* ZeroMQ messages for the R session and the R workers: a whole multipart message
 * per call. pbdZMQ's own multipart functions loop in R and look up option tables
 * for every part, ≈ 0.15 ms per message sent and received (a trivial future sends
 * and receives two). The sockets stay pbdZMQ's: its external pointers hold the
 * libzmq socket, and both packages link the same libzmq. */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "tandem.h"

/* R_interrupts_pending, which R declares for graphics devices. */
#include <R_ext/GraphicsEngine.h>

static void *socket_of(SEXP socket) {
  if (TYPEOF(socket) != EXTPTRSXP || R_ExternalPtrAddr(socket) == NULL) {
    Rf_error("not an open ZeroMQ socket");
  }
  return R_ExternalPtrAddr(socket);
}

SEXP tnd_zmq_send(SEXP socket, SEXP frames) {
  void *zsocket = socket_of(socket);
  if (TYPEOF(frames) != VECSXP || XLENGTH(frames) == 0) Rf_error("a message needs at least one frame");
  R_xlen_t n = XLENGTH(frames);
  /* Checked before the first part goes: a failure halfway would leave the socket
   * in the middle of a message. */
  for (R_xlen_t i = 0; i < n; i++) {
    SEXP frame = VECTOR_ELT(frames, i);
    if (TYPEOF(frame) != RAWSXP && !(TYPEOF(frame) == STRSXP && XLENGTH(frame) == 1)) {
      Rf_error("frame %d is neither a raw vector nor a string", (int)i + 1);
    }
  }
  for (R_xlen_t i = 0; i < n; i++) {
    SEXP frame = VECTOR_ELT(frames, i);
    const void *data;
    size_t size;
    if (TYPEOF(frame) == RAWSXP) {
      data = RAW(frame);
      size = (size_t)XLENGTH(frame);
    } else {
      data = CHAR(STRING_ELT(frame, 0));
      size = strlen(data);
    }
    /* A signal interrupts the call before the part is queued: send it again. An
     * interrupt is raised by R after the whole message is out. */
    while (zmq_send(zsocket, data, size, i + 1 < n ? ZMQ_SNDMORE : 0) < 0) {
      if (zmq_errno() != EINTR) Rf_error("cannot send a message: %s", zmq_strerror(zmq_errno()));
    }
  }
  return R_NilValue;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Waits up to `timeout` ms (-1: without end) for a message; its frames as raw
 * vectors, or NULL when none came. An interrupt while waiting is raised, unless
 * `idle`: then the caller waits for its next piece of work, and an interrupt that
 * arrives meanwhile (or arrived since the last one ended) was meant for work that
 * has ended, so it is dropped. One that arrives once the message is here stays
 * pending, for the work the message brings. */
SEXP tnd_zmq_receive(SEXP socket, SEXP timeout, SEXP idle_flag) {
  void *zsocket = socket_of(socket);
  int wait = Rf_asInteger(timeout);
  int idle = Rf_asLogical(idle_flag) == TRUE;
  double deadline = wait > 0 ? now_ms() + wait : 0;
  zmq_pollitem_t item = {.socket = zsocket, .events = ZMQ_POLLIN};
  for (;;) {
    if (idle) R_interrupts_pending = 0;
    int ready = zmq_poll(&item, 1, wait);
    if (ready > 0) break;
    if (ready == 0) return R_NilValue;
    if (zmq_errno() != EINTR) Rf_error("cannot wait for a message: %s", zmq_strerror(zmq_errno()));
    if (!idle) R_CheckUserInterrupt();
    if (wait > 0) {
      wait = (int)(deadline - now_ms());
      if (wait <= 0) return R_NilValue;
    }
  }
  /* The parts of a message arrive together; the list doubles as it fills. */
  R_xlen_t count = 0, capacity = 4;
  SEXP parts = PROTECT(Rf_allocVector(VECSXP, capacity));
  int more = 1;
  while (more) {
    zmq_msg_t message;
    zmq_msg_init(&message);
    while (zmq_msg_recv(&message, zsocket, 0) < 0) {
      if (zmq_errno() != EINTR) {
        zmq_msg_close(&message);
        Rf_error("cannot receive a message: %s", zmq_strerror(zmq_errno()));
      }
    }
    /* Grown before the frame is made: growing allocates, and an unprotected frame
     * could be collected meanwhile. */
    if (count == capacity) {
      capacity *= 2;
      parts = Rf_xlengthgets(parts, capacity);
      UNPROTECT(1);
      PROTECT(parts);
    }
    more = zmq_msg_more(&message);
    size_t size = zmq_msg_size(&message);
    SEXP frame = Rf_allocVector(RAWSXP, (R_xlen_t)size);
    if (size > 0) memcpy(RAW(frame), zmq_msg_data(&message), size);
    zmq_msg_close(&message);
    SET_VECTOR_ELT(parts, count++, frame);
  }
  SEXP result = Rf_xlengthgets(parts, count);
  UNPROTECT(1);
  return result;
}
