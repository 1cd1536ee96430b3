"""The life of personal data (issue 19): retention, erasure, access and portability,
consent withdrawal and the records a Data Protection Officer asks for."""
