{
  "targets": [
    {
      "target_name": "sha512_mb",
      "sources": ["native/sha512-mb.c"],
      "cflags": ["-O3", "-Wall"]
    }
  ]
}
