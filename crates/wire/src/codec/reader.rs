use super::WireError;

/// A cursor over a message body; every read checks the bytes left and names the field.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The rest of the body.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub fn i8(&mut self, what: &'static str) -> Result<i8, WireError> {
        Ok(i8::from_be_bytes(self.array(what)?))
    }

    pub fn i16(&mut self, what: &'static str) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    pub fn i32(&mut self, what: &'static str) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub fn i64(&mut self, what: &'static str) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    pub fn i128(&mut self, what: &'static str) -> Result<i128, WireError> {
        Ok(i128::from_be_bytes(self.array(what)?))
    }

    pub fn f64(&mut self, what: &'static str) -> Result<f64, WireError> {
        Ok(f64::from_be_bytes(self.array(what)?))
    }

    /// A count that must not be negative.
    pub fn count(&mut self, len: i64, what: &'static str) -> Result<usize, WireError> {
        if len < 0 {
            return Err(WireError::BadLength {
                what,
                len,
                offset: self.pos,
            });
        }
        Ok(len as usize)
    }

    /// `i32 length` + bytes; length -1 is NULL.
    pub fn bytes(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, WireError> {
        let at = self.pos;
        let len = self.i32(what)?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(WireError::BadLength {
                what,
                len: i64::from(len),
                offset: at,
            });
        }
        self.take(len as usize, what).map(Some)
    }

    /// `i32 length` + UTF-8; length -1 is NULL.
    pub fn string(&mut self, what: &'static str) -> Result<Option<&'a str>, WireError> {
        let at = self.pos + 4;
        match self.bytes(what)? {
            None => Ok(None),
            Some(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| WireError::InvalidUtf8 { what, offset: at }),
        }
    }

    /// A string that must not be NULL.
    pub fn required_string(&mut self, what: &'static str) -> Result<&'a str, WireError> {
        let at = self.pos;
        self.string(what)?.ok_or(WireError::BadLength {
            what,
            len: -1,
            offset: at,
        })
    }
}
